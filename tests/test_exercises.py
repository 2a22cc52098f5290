import numpy as np
import pytest
import torch

from bigmodel_lab.exercises import (
    CORRECT,
    INCORRECT,
    UNANSWERED,
    check_choice,
    check_close,
    check_function,
    check_true,
    strip_solutions,
)


def test_check_close_statuses():
    assert check_close(..., 0.5).status == UNANSWERED
    assert check_close(0.5, 0.5).status == CORRECT
    assert check_close(0.4, 0.5).status == INCORRECT


@pytest.mark.parametrize("answer", ["0.5", {"a": 1}, [1, "x"], object(), [[1, 2], [3]]])
def test_check_close_never_raises_on_wrong_type(answer):
    result = check_close(answer, 0.5)
    assert result.status == INCORRECT
    assert result.message


@pytest.mark.parametrize("answer", [256**256, [1.0, 10**400]])
def test_check_close_huge_integer_is_incorrect(answer):
    feedback = check_close(answer, 1.0)
    assert feedback.status == INCORRECT
    assert "太大" in feedback.message


@pytest.mark.parametrize("answer", [["0.8044", "0.1956"], [0.8044, "x"], "0.5"])
def test_check_close_rejects_quoted_numbers(answer):
    feedback = check_close(answer, [0.8044, 0.1956])
    assert feedback.status == INCORRECT
    assert "不要加引号" in feedback.message


def test_check_close_names_ragged_lists():
    feedback = check_close([[1, 2], [3]], [[1, 2], [3, 4]])
    assert feedback.status == INCORRECT
    assert "长度不一致" in feedback.message


def test_check_function_huge_result():
    feedback = check_function(lambda x: 256**256, [((1,), 2.0)], hint="检查缩放因子。")
    assert feedback.status == INCORRECT
    assert "太大" in feedback.message
    assert "。 " not in feedback.message


def test_check_close_reports_shape():
    result = check_close([1.0, 2.0], [1.0, 2.0, 3.0])
    assert result.status == INCORRECT
    assert "形状" in result.message


def test_check_close_accepts_tensor_and_rejects_nan():
    assert check_close(torch.tensor([0.5, 1.0]), [0.5, 1.0]).passed
    assert check_close(np.nan, 0.5).status == INCORRECT


def test_check_choice_is_case_and_space_insensitive():
    assert check_choice(" B ", "b").passed
    assert check_choice("a", "b").status == INCORRECT
    assert check_choice(1, True).status == INCORRECT
    assert check_choice(None, "b").status == UNANSWERED


def test_check_function_reports_errors_without_raising():
    def broken(x):
        return x / 0

    result = check_function(broken, [((1.0,), 1.0)])
    assert result.status == INCORRECT
    assert "ZeroDivisionError" in result.message


def test_check_function_statuses():
    assert check_function(lambda x: 2 * x, [((1.0,), 2.0), ((3.0,), 6.0)]).passed
    assert check_function(lambda x: x, [((1.0,), 2.0)]).status == INCORRECT
    assert check_function(lambda x: None, [((1.0,), 2.0)]).status == UNANSWERED
    assert check_function(..., []).status == UNANSWERED
    assert check_function(3, []).status == INCORRECT


def test_check_true_survives_failing_condition():
    assert check_true("abc", lambda answer: answer > 0).status == INCORRECT
    assert check_true(5, lambda answer: answer > 0).passed


def test_feedback_prints_status_first():
    assert str(check_close(0.4, 0.5, hint="再想想")).startswith("不正确：")
    assert str(check_close(0.5, 0.5)) == "正确"


def test_strip_solutions_keeps_placeholder_and_function_body():
    source = "\n".join(
        [
            "answer = ...",
            "# BEGIN SOLUTION",
            "answer = 3",
            "# END SOLUTION",
            "def f(x):",
            "    # BEGIN SOLUTION",
            "    return x",
            "    # END SOLUTION",
        ]
    )
    stripped = strip_solutions(source)
    assert "answer = 3" not in stripped
    assert "return x" not in stripped
    namespace = {}
    exec(stripped, namespace)
    assert namespace["answer"] is Ellipsis
    assert namespace["f"](1) is None


@pytest.mark.parametrize(
    "source",
    ["# BEGIN SOLUTION\nx = 1", "# END SOLUTION", "# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION"],
)
def test_strip_solutions_rejects_unbalanced_markers(source):
    with pytest.raises(ValueError, match="SOLUTION"):
        strip_solutions(source)
