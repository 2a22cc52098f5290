import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from bigmodel_lab.cli import main
from bigmodel_lab.edition import write_student_edition
from bigmodel_lab.notebooks import resolve_notebooks
from bigmodel_lab.runner import format_table, run_series

EXERCISE = """from bigmodel_lab.exercises import check_close
answer_1 = ...
# BEGIN SOLUTION
answer_1 = 0.5
# END SOLUTION
print(check_close(answer_1, 0.5))"""


def _write_notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('preset = "cpu"')
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, *(nbformat.v4.new_code_cell(source) for source in sources)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def series(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _write_notebook(folder / "00_first.ipynb", "print('第一本', preset)")
    _write_notebook(folder / "01_exercise.ipynb", EXERCISE)
    return folder


def _outputs(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    return "".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", []))


def test_resolve_by_number_name_and_file(series):
    assert [p.name for p in resolve_notebooks(["01", "00_first"], series)] == ["00_first.ipynb", "01_exercise.ipynb"]
    assert resolve_notebooks([str(series / "01_exercise.ipynb")], series)[0].name == "01_exercise.ipynb"


def test_resolve_unknown_notebook_lists_available(series):
    with pytest.raises(FileNotFoundError, match="找不到笔记本 '99'.*00_first"):
        resolve_notebooks(["99"], series)


def test_run_series_executes_in_order_with_preset(series, tmp_path):
    results = run_series(resolve_notebooks([], series), tmp_path / "runs", preset="gpu")
    assert [r.status for r in results] == ["通过", "通过"]
    assert "第一本 gpu" in _outputs(tmp_path / "runs" / "00_first.ipynb")
    table = format_table(results)
    assert table.splitlines()[0].split() == ["笔记本", "秒", "内存峰值", "MiB", "状态"]
    assert results[0].peak_mb > 0


def test_run_strips_machine_paths_from_metadata(series, tmp_path):
    run_series(resolve_notebooks(["00"], series), tmp_path / "runs")
    text = (tmp_path / "runs" / "00_first.ipynb").read_text(encoding="utf-8")
    assert str(tmp_path) not in text


def test_run_failure_names_notebook_and_cell(series, tmp_path, capsys):
    _write_notebook(series / "02_broken.ipynb", "x = 1", "raise ValueError('坏了')")
    code = main(["run", "--notebooks-dir", str(series), "--output", str(tmp_path / "runs"), "02"])
    error = capsys.readouterr().err
    assert code == 1
    assert "02_broken.ipynb 的第 3 个单元" in error
    assert "坏了" in error


def test_run_unknown_preset_is_rejected(series, capsys):
    assert main(["run", "--notebooks-dir", str(series), "--preset", "tpu"]) == 2
    assert "未知预设 'tpu'" in capsys.readouterr().err


def test_run_unknown_notebook_is_rejected(series, capsys):
    assert main(["run", "--notebooks-dir", str(series), "42"]) == 2
    assert "找不到笔记本 '42'" in capsys.readouterr().err


def test_run_missing_directory_is_rejected(tmp_path, capsys):
    assert main(["run", "--notebooks-dir", str(tmp_path / "nowhere")]) == 2
    assert "不存在" in capsys.readouterr().err


def test_student_edition_removes_solutions_and_runs(series, tmp_path):
    student = tmp_path / "student"
    written = write_student_edition(series, student)
    assert [p.name for p in written] == ["00_first.ipynb", "01_exercise.ipynb"]
    source = (student / "01_exercise.ipynb").read_text(encoding="utf-8")
    assert "answer_1 = 0.5" not in source
    results = run_series(written, tmp_path / "student_runs")
    assert [r.status for r in results] == ["通过", "通过"]
    assert "尚未作答" in _outputs(tmp_path / "student_runs" / "01_exercise.ipynb")


def test_teacher_edition_reports_correct(series, tmp_path):
    run_series(resolve_notebooks(["01"], series), tmp_path / "runs")
    assert _outputs(tmp_path / "runs" / "01_exercise.ipynb").strip() == "正确"


def test_student_edition_refuses_to_overwrite_sources(series):
    with pytest.raises(ValueError, match="不能是笔记本目录本身"):
        write_student_edition(series, series)


def test_student_edition_command(series, tmp_path, capsys):
    assert main(["student-edition", str(tmp_path / "out"), "--notebooks-dir", str(series)]) == 0
    assert "已写出 2 本学生版笔记本" in capsys.readouterr().out


def test_module_entry_point_prints_help():
    result = subprocess.run(
        [sys.executable, "-m", "bigmodel_lab", "--help"], capture_output=True, text=True, encoding="utf-8"
    )
    assert result.returncode == 0
    assert "student-edition" in result.stdout


def test_doctor_report_lists_every_check(capsys):
    from bigmodel_lab.doctor import format_report, run_checks

    report = format_report(run_checks())
    for name in ("Python", "torch", "计算设备", "内存", "中文字体", "数据"):
        assert name in report


def test_grade_counts_statuses_per_student(series, tmp_path, capsys):
    student = tmp_path / "student"
    write_student_edition(series, student)
    run_series([student / "01_exercise.ipynb"], tmp_path / "submissions" / "zhang")
    run_series(resolve_notebooks(["01"], series), tmp_path / "submissions" / "li")
    report = tmp_path / "grades.csv"
    assert main(["grade", str(tmp_path / "submissions"), "--output", str(report)]) == 0
    rows = report.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0] == "学生,笔记本,正确,不正确,尚未作答,备注"
    assert "li,01_exercise,1,0,0,含参考答案标记：交回的可能是教师版" in rows
    assert "zhang,01_exercise,0,0,1," in rows


def test_grade_execute_reruns_notebook(series, tmp_path):
    from bigmodel_lab.grading import grade_submissions

    folder = tmp_path / "submissions" / "wang"
    folder.mkdir(parents=True)
    (folder / "01_exercise.ipynb").write_bytes((series / "01_exercise.ipynb").read_bytes())
    grades = grade_submissions(tmp_path / "submissions", execute=True, notebook_dir=series)
    assert (grades[0].correct, grades[0].unanswered) == (1, 0)


def test_grade_missing_folder_is_rejected(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nowhere")]) == 2
    assert "作业目录" in capsys.readouterr().err


def test_resolve_accepts_single_digit(series):
    assert [p.name for p in resolve_notebooks(["1"], series)] == ["01_exercise.ipynb"]


def test_run_gpu_preset_without_cuda_is_rejected(series, capsys, monkeypatch):
    monkeypatch.setattr("bigmodel_lab.cli._cuda_available", lambda: False)
    assert main(["run", "--notebooks-dir", str(series), "--preset", "gpu"]) == 2
    message = capsys.readouterr().err
    assert "需要 NVIDIA GPU" in message
    assert "cpu 预设" in message


def test_bad_command_error_is_chinese(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["rnu"])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert "无效的选项" in message
    assert "invalid choice" not in message


def test_help_headings_are_chinese(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    assert "用法：" in text
    assert "显示本帮助并退出" in text
    assert "show this help" not in text


def test_student_edition_refuses_existing_notebooks(series, tmp_path, capsys):
    target = tmp_path / "out"
    assert main(["student-edition", str(target), "--notebooks-dir", str(series)]) == 0
    answered = target / "01_exercise.ipynb"
    answered.write_text(answered.read_text(encoding="utf-8").replace("answer_1 = ...", "answer_1 = 0.5"), encoding="utf-8")
    assert main(["student-edition", str(target), "--notebooks-dir", str(series)]) == 2
    assert "--force" in capsys.readouterr().err
    assert "answer_1 = 0.5" in answered.read_text(encoding="utf-8")
    assert main(["student-edition", str(target), "--notebooks-dir", str(series), "--force"]) == 0
    assert "answer_1 = 0.5" not in answered.read_text(encoding="utf-8")


def test_student_edition_drops_saved_widget_state(series, tmp_path):
    notebook = nbformat.read(series / "00_first.ipynb", as_version=4)
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nbformat.write(notebook, series / "00_first.ipynb")
    write_student_edition(series, tmp_path / "student")
    assert "widgets" not in nbformat.read(tmp_path / "student" / "00_first.ipynb", as_version=4).metadata


def _submit_with_error(folder: Path) -> None:
    # 练习 1 答对，同一单元随后报 NameError
    source = EXERCISE.replace("answer_1 = ...", "answer_1 = 0.5") + "\nprint(undefined_name)"
    folder.mkdir(parents=True)
    _write_notebook(folder / "01_exercise.ipynb", source)


def test_grade_saved_error_keeps_earlier_checks(series, tmp_path):
    from bigmodel_lab.grading import grade_submissions

    folder = tmp_path / "submissions" / "zhao"
    _submit_with_error(folder)
    run_series([folder / "01_exercise.ipynb"], tmp_path / "executed" / "zhao")
    grades = grade_submissions(tmp_path / "executed")
    assert grades[0].correct == 1
    assert "NameError" in grades[0].note


def test_grade_execute_error_keeps_earlier_checks(series, tmp_path):
    from bigmodel_lab.grading import grade_submissions

    _submit_with_error(tmp_path / "submissions" / "zhao")
    grades = grade_submissions(tmp_path / "submissions", execute=True, notebook_dir=series)
    assert grades[0].correct == 1
    assert "NameError" in grades[0].note


def test_grade_counts_checks_without_result(series, tmp_path):
    from bigmodel_lab.grading import grade_submissions

    folder = tmp_path / "submissions" / "qian"
    folder.mkdir(parents=True)
    # 作答单元报错，run_series 在这里停下，后面的两个检查都没有运行
    check = "from bigmodel_lab.exercises import check_close\nprint(check_close(answer_1, 0.5))"
    _write_notebook(folder / "01_exercise.ipynb", "answer_1 = undefined_name", check, check)
    executed = tmp_path / "executed"
    run_series([folder / "01_exercise.ipynb"], executed / "qian")
    grades = grade_submissions(executed)
    assert "NameError" in grades[0].note
    assert "2 个检查没有结果" in grades[0].note


def test_student_edition_drops_test_markers(series, tmp_path):
    _write_notebook(series / "02_marked.ipynb", "# NBVAL_CHECK_OUTPUT\nprint(1)")
    write_student_edition(series, tmp_path / "student")
    source = (tmp_path / "student" / "02_marked.ipynb").read_text(encoding="utf-8")
    assert "NBVAL" not in source
    assert "print(1)" in source


def test_missing_output_folder_names_it_in_chinese(capsys):
    with pytest.raises(SystemExit):
        main(["student-edition"])
    assert "输出目录" in capsys.readouterr().err


def test_student_edition_of_chosen_notebooks(series, tmp_path, capsys):
    target = tmp_path / "out"
    assert main(["student-edition", str(target), "01", "--notebooks-dir", str(series)]) == 0
    assert "已写出 1 本学生版笔记本" in capsys.readouterr().out
    assert sorted(p.name for p in target.glob("*.ipynb")) == ["01_exercise.ipynb"]
    # 之后再加一本不算覆盖：只有同名的笔记本才会被拒绝
    assert main(["student-edition", str(target), "00", "--notebooks-dir", str(series)]) == 0
    assert main(["student-edition", str(target), "01", "--notebooks-dir", str(series)]) == 2


def test_grade_merges_downloaded_copy_names(series, tmp_path):
    from bigmodel_lab.grading import grade_submissions

    run_series(resolve_notebooks(["01"], series), tmp_path / "runs")
    folder = tmp_path / "submissions" / "zhao"
    folder.mkdir(parents=True)
    (folder / "01_exercise (1).ipynb").write_bytes((tmp_path / "runs" / "01_exercise.ipynb").read_bytes())
    grades = grade_submissions(tmp_path / "submissions")
    assert grades[0].notebook == "01_exercise"


def test_grade_corrupt_notebook_gets_chinese_note(tmp_path):
    from bigmodel_lab.grading import grade_submissions

    folder = tmp_path / "submissions" / "qian"
    folder.mkdir(parents=True)
    (folder / "01_exercise.ipynb").write_text("{ 不是 JSON", encoding="utf-8")
    grades = grade_submissions(tmp_path / "submissions")
    assert grades[0].note.startswith("无法读取：文件不是有效的笔记本")
    assert "JSON" in grades[0].note
