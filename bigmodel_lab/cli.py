"""命令行入口：python -m bigmodel_lab run | doctor | student-edition | grade。"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .notebooks import PRESETS, check_preset, default_notebook_dir, resolve_notebooks

# argparse 自带的英文报错片段 → 中文。只翻译本命令行会用到的几种。
_ARGPARSE_PHRASES = (
    ("the following arguments are required", "缺少必需的参数"),
    ("unrecognized arguments", "无法识别的参数"),
    ("invalid choice", "无效的选项"),
    ("choose from", "可选"),
    ("expected one argument", "需要一个值"),
    ("argument ", "参数 "),
)


class _HelpFormatter(argparse.HelpFormatter):
    """把帮助开头的 usage: 换成中文。"""

    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, prefix="用法：" if prefix is None else prefix)


class _ChineseArgumentParser(argparse.ArgumentParser):
    """帮助与报错都用中文的 ArgumentParser。子命令的解析器也是这个类。"""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("add_help", False)
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出")

    def error(self, message):
        for english, chinese in _ARGPARSE_PHRASES:
            message = message.replace(english, chinese)
        self.print_usage(sys.stderr)
        self.exit(2, f"错误：{message}。用 -h 查看用法。\n")


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _build_parser() -> argparse.ArgumentParser:
    parser = _ChineseArgumentParser(
        prog="python -m bigmodel_lab",
        description="大模型动手实验室：无界面运行笔记本、检查环境、生成学生版、汇总练习成绩。",
    )
    commands = parser.add_subparsers(dest="command", metavar="命令")

    run = commands.add_parser("run", help="用 papermill 依次运行笔记本，最后打印耗时与内存表")
    run.add_argument("notebooks", nargs="*", help="要运行的笔记本，如 07 或 07_pretraining；默认全部")
    run.add_argument("--preset", default="cpu", help=f"预设：{' / '.join(PRESETS)}（默认 cpu）")
    run.add_argument("--output", default="runs", help="执行后笔记本的保存目录（默认 runs）")
    run.add_argument("--notebooks-dir", default=None, help="笔记本所在目录（默认 ./notebooks）")

    commands.add_parser("doctor", help="检查 Python、依赖、设备、内存、中文字体与数据")

    student = commands.add_parser("student-edition", help="生成去掉参考答案的学生版笔记本")
    student.add_argument("output", metavar="输出目录", help="学生版的输出目录，例如 student")
    student.add_argument("notebooks", nargs="*", metavar="笔记本", help="只转换这几本，如 04 05 06；默认全部")
    student.add_argument("--notebooks-dir", default=None, help="笔记本所在目录（默认 ./notebooks）")
    student.add_argument("--force", action="store_true", help="输出目录里已有同名笔记本时也覆盖（学生已写的答案会丢失）")
    grade = commands.add_parser("grade", help="汇总学生交回的笔记本中每道练习的检查结果")
    grade.add_argument("submissions", metavar="作业目录", help="作业目录：每位学生一个子目录，里面是交回的笔记本，例如 submissions")
    grade.add_argument("--output", default="grades.csv", help="成绩表（CSV）的保存路径（默认 grades.csv）")
    grade.add_argument("--execute", action="store_true", help="先重新执行每本笔记本（训练只跑 3 步）再统计")
    return parser


def _command_grade(args) -> int:
    from .grading import grade_submissions, write_grades

    grades = grade_submissions(Path(args.submissions), execute=args.execute)
    if not grades:
        raise FileNotFoundError(f"{args.submissions} 中没有 .ipynb 文件。")
    write_grades(grades, Path(args.output))
    for grade in grades:
        note = f"  {grade.note}" if grade.note else ""
        print(f"{grade.student}  {grade.notebook}  正确 {grade.correct}  不正确 {grade.incorrect}  尚未作答 {grade.unanswered}{note}")
    print(f"成绩表已写入 {Path(args.output).resolve()}。")
    return 0


def _command_run(args) -> int:
    from .runner import format_table, run_series

    check_preset(args.preset)
    if args.preset == "gpu" and not _cuda_available():
        raise ValueError(
            "gpu 预设训练更大的模型，需要 NVIDIA GPU（CUDA），但本机没有检测到。在 CPU 上估计要跑好几个小时。"
            "请去掉 --preset gpu，使用默认的 cpu 预设。"
        )
    directory = Path(args.notebooks_dir) if args.notebooks_dir else default_notebook_dir()
    notebooks = resolve_notebooks(args.notebooks, directory)
    if not notebooks:
        raise FileNotFoundError(f"{directory} 中没有编号开头的笔记本。")
    results = run_series(notebooks, Path(args.output), args.preset)
    print(format_table(results))
    failed = [r for r in results if r.status != "通过"]
    if failed:
        print(failed[0].error, file=sys.stderr)
        skipped = len(notebooks) - len(results)
        if skipped:
            print(f"因上面的错误，后面 {skipped} 本笔记本没有运行。", file=sys.stderr)
        return 1
    print(f"全部 {len(results)} 本笔记本运行通过，结果保存在 {args.output}。")
    return 0


def _command_student(args) -> int:
    from .edition import write_student_edition

    directory = Path(args.notebooks_dir) if args.notebooks_dir else default_notebook_dir()
    written = write_student_edition(directory, Path(args.output), overwrite=args.force, names=args.notebooks)
    print(f"已写出 {len(written)} 本学生版笔记本到 {args.output}。")
    return 0


def main(argv: list[str] | None = None) -> int:
    """解析命令行并执行对应命令，返回退出码。"""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return _command_run(args)
        if args.command == "doctor":
            from .doctor import environment_report

            return 0 if environment_report() else 1
        if args.command == "student-edition":
            return _command_student(args)
        if args.command == "grade":
            return _command_grade(args)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"错误：{error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\n已中断：按下了 Ctrl-C，正在运行的笔记本没有完成。", file=sys.stderr)
        return 130
    parser.print_help()
    return 2
