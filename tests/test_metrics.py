"""bigmodel_lab.metrics 与 sklearn.metrics 逐项对照：随机数据、并列分数、从未预测的类、只有一类。"""

import warnings

import numpy as np
import pytest
from sklearn import metrics as sk

from bigmodel_lab import metrics as ours
from bigmodel_lab.metrics import UndefinedMetricWarning


def sklearn_quietly(function, *args, **kwargs):
    """调用 sklearn 并吞掉它自己的英文警告：测试只关心它的返回值。"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def random_labels(seed, n=60, classes=2):
    rng = np.random.default_rng(seed)
    return rng.integers(0, classes, n), rng.integers(0, classes, n)


def random_scores(seed, n=80, ties=False):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, n)
    if ties:
        # 分数只取 5 个值，必然大量并列
        y_score = rng.integers(0, 5, n) / 4
    else:
        y_score = rng.normal(size=n) + y_true
    return y_true, y_score


# ---------------------------------------------------------------- 随机数据与 sklearn 相等


@pytest.mark.parametrize("seed", range(10))
def test_accuracy_matches_sklearn(seed):
    y_true, y_pred = random_labels(seed, classes=3)
    assert ours.accuracy_score(y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    assert ours.accuracy_score(y_true, y_pred, normalize=False) == sk.accuracy_score(
        y_true, y_pred, normalize=False
    )


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("name", ["precision_score", "recall_score", "f1_score"])
def test_binary_prf_matches_sklearn(seed, name):
    y_true, y_pred = random_labels(seed)
    assert getattr(ours, name)(y_true, y_pred) == pytest.approx(getattr(sk, name)(y_true, y_pred))
    assert getattr(ours, name)(y_true, y_pred, pos_label=0) == pytest.approx(
        getattr(sk, name)(y_true, y_pred, pos_label=0)
    )


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("average", ["macro", "micro", None])
@pytest.mark.parametrize("name", ["precision_score", "recall_score", "f1_score"])
def test_multiclass_prf_matches_sklearn(seed, average, name):
    y_true, y_pred = random_labels(seed, classes=4)
    got = getattr(ours, name)(y_true, y_pred, average=average)
    want = getattr(sk, name)(y_true, y_pred, average=average)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_precision_recall_fscore_support_matches_sklearn(seed):
    y_true, y_pred = random_labels(seed, classes=3)
    got = ours.precision_recall_fscore_support(y_true, y_pred, beta=2.0)
    want = sk.precision_recall_fscore_support(y_true, y_pred, beta=2.0)
    for got_part, want_part in zip(got, want):
        np.testing.assert_allclose(got_part, want_part, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_confusion_matrix_matches_sklearn(seed):
    y_true, y_pred = random_labels(seed, classes=3)
    np.testing.assert_array_equal(ours.confusion_matrix(y_true, y_pred), sk.confusion_matrix(y_true, y_pred))
    for normalize in ("true", "pred", "all"):
        np.testing.assert_allclose(
            ours.confusion_matrix(y_true, y_pred, normalize=normalize),
            sk.confusion_matrix(y_true, y_pred, normalize=normalize),
            rtol=0,
            atol=1e-12,
        )


def test_confusion_matrix_rows_are_true_labels():
    # 真实为 1、预测为 0 的有 2 个：应在第 1 行第 0 列
    matrix = ours.confusion_matrix([1, 1, 0, 1], [0, 0, 0, 1])
    np.testing.assert_array_equal(matrix, [[1, 0], [2, 1]])


def test_confusion_matrix_follows_given_label_order():
    y_true, y_pred = [0, 1, 2, 2, 5], [0, 2, 2, 1, 5]
    labels = [2, 0, 1]
    np.testing.assert_array_equal(
        ours.confusion_matrix(y_true, y_pred, labels=labels),
        sk.confusion_matrix(y_true, y_pred, labels=labels),
    )


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("drop_intermediate", [False, True])
def test_roc_curve_matches_sklearn(seed, ties, drop_intermediate):
    y_true, y_score = random_scores(seed, ties=ties)
    got = ours.roc_curve(y_true, y_score, drop_intermediate=drop_intermediate)
    want = sk.roc_curve(y_true, y_score, drop_intermediate=drop_intermediate)
    for got_part, want_part in zip(got, want):
        np.testing.assert_allclose(got_part, want_part, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("ties", [False, True])
def test_roc_auc_matches_sklearn(seed, ties):
    y_true, y_score = random_scores(seed, ties=ties)
    assert ours.roc_auc_score(y_true, y_score) == pytest.approx(sk.roc_auc_score(y_true, y_score), abs=1e-12)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("drop_intermediate", [False, True])
def test_precision_recall_curve_matches_sklearn(seed, ties, drop_intermediate):
    y_true, y_score = random_scores(seed, ties=ties)
    got = ours.precision_recall_curve(y_true, y_score, drop_intermediate=drop_intermediate)
    want = sk.precision_recall_curve(y_true, y_score, drop_intermediate=drop_intermediate)
    for got_part, want_part in zip(got, want):
        np.testing.assert_allclose(got_part, want_part, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("ties", [False, True])
def test_average_precision_matches_sklearn(seed, ties):
    y_true, y_score = random_scores(seed, ties=ties)
    got = ours.average_precision_score(y_true, y_score)
    assert got == pytest.approx(sk.average_precision_score(y_true, y_score), abs=1e-12)


def test_curves_accept_logits_and_pos_label():
    y_true = np.array([3, 7, 7, 3, 7, 3])
    y_score = np.array([-2.0, 5.0, 0.5, 0.5, 9.0, -7.0])
    for got_part, want_part in zip(
        ours.roc_curve(y_true, y_score, pos_label=7), sk.roc_curve(y_true, y_score, pos_label=7)
    ):
        np.testing.assert_allclose(got_part, want_part)
    assert ours.average_precision_score(y_true, y_score, pos_label=7) == pytest.approx(
        sk.average_precision_score(y_true, y_score, pos_label=7)
    )


def test_roc_curve_accepts_minus_one_and_one():
    y_true, y_score = [-1, 1, 1, -1], [0.1, 0.5, 0.3, 0.4]
    for got_part, want_part in zip(ours.roc_curve(y_true, y_score), sk.roc_curve(y_true, y_score)):
        np.testing.assert_allclose(got_part, want_part)


def test_labels_accept_bool_and_integer_floats():
    y_true, y_pred = [True, False, True, True], [1.0, 0.0, 0.0, 1.0]
    assert ours.f1_score(y_true, y_pred) == pytest.approx(sk.f1_score([1, 0, 1, 1], [1, 0, 0, 1]))


# ---------------------------------------------------------------- 并列分数


def test_roc_auc_counts_ties_as_half():
    # 一正一负分数相同：正样本“更高”的概率是 1/2
    assert ours.roc_auc_score([0, 1], [0.5, 0.5]) == 0.5
    # 两对中一对分对、一对并列：(1 + 0.5) / 2
    assert ours.roc_auc_score([0, 1, 1], [0.2, 0.9, 0.2]) == pytest.approx(0.75)


def test_roc_auc_equals_trapezoid_area_under_roc_curve():
    y_true, y_score = random_scores(3, ties=True)
    fpr, tpr, _ = ours.roc_curve(y_true, y_score)
    assert ours.roc_auc_score(y_true, y_score) == pytest.approx(np.trapezoid(tpr, fpr), abs=1e-12)


def test_tied_scores_make_one_point_on_roc_curve():
    fpr, tpr, thresholds = ours.roc_curve([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3], drop_intermediate=False)
    np.testing.assert_array_equal(thresholds, [np.inf, 0.3])
    np.testing.assert_array_equal(fpr, [0.0, 1.0])
    np.testing.assert_array_equal(tpr, [0.0, 1.0])


# ---------------------------------------------------------------- 从未预测的类：按 sklearn 取值并警告一次


def test_precision_when_positive_never_predicted_warns_once():
    y_true, y_pred = [0, 0, 1, 1], [0, 0, 0, 0]
    with pytest.warns(UndefinedMetricWarning, match="精确率") as record:
        got = ours.precision_score(y_true, y_pred)
    assert len(record) == 1
    assert got == sklearn_quietly(sk.precision_score, y_true, y_pred)


def test_f1_when_positive_never_predicted_is_zero_without_warning():
    # F1 = 2TP / (2TP + FP + FN) 的分母是 2，有定义，sklearn 也不警告
    y_true, y_pred = [0, 0, 1, 1], [0, 0, 0, 0]
    assert ours.f1_score(y_true, y_pred) == sk.f1_score(y_true, y_pred) == 0.0


def test_macro_precision_with_unpredicted_class_warns_once():
    y_true, y_pred = [0, 1, 2, 2], [0, 0, 2, 2]
    with pytest.warns(UndefinedMetricWarning, match=r"标签 \[1\]") as record:
        got = ours.precision_score(y_true, y_pred, average="macro")
    assert len(record) == 1
    assert got == pytest.approx(sklearn_quietly(sk.precision_score, y_true, y_pred, average="macro"))


@pytest.mark.parametrize("zero_division", [0, 1, np.nan])
def test_zero_division_sets_value_without_warning(zero_division):
    y_true, y_pred = [0, 1, 2, 2], [0, 0, 2, 2]
    got = ours.precision_score(y_true, y_pred, average=None, zero_division=zero_division)
    want = sk.precision_score(y_true, y_pred, average=None, zero_division=zero_division)
    np.testing.assert_array_equal(got, want)
    got = ours.precision_score(y_true, y_pred, average="macro", zero_division=zero_division)
    want = sk.precision_score(y_true, y_pred, average="macro", zero_division=zero_division)
    assert got == pytest.approx(want)


# ---------------------------------------------------------------- y_true 只有一类：按 sklearn 取值并警告一次


def test_recall_with_single_class_in_y_true_warns_once():
    y_true, y_pred = [0, 0, 0, 0], [0, 1, 0, 0]
    with pytest.warns(UndefinedMetricWarning, match="召回率") as record:
        got = ours.recall_score(y_true, y_pred)
    assert len(record) == 1
    assert got == sklearn_quietly(sk.recall_score, y_true, y_pred)


def test_all_three_undefined_give_one_warning():
    with pytest.warns(UndefinedMetricWarning) as record:
        got = ours.precision_recall_fscore_support([0, 0], [0, 0], average="binary")
    assert len(record) == 1
    assert "精确率" in str(record[0].message)
    assert "召回率" in str(record[0].message)
    assert "F1" in str(record[0].message)
    assert got == sklearn_quietly(sk.precision_recall_fscore_support, [0, 0], [0, 0], average="binary")


def test_macro_f1_with_single_class_in_y_true_matches_sklearn():
    y_true, y_pred = [0, 0, 0, 0], [0, 1, 0, 0]
    assert ours.f1_score(y_true, y_pred, average="macro") == pytest.approx(
        sk.f1_score(y_true, y_pred, average="macro")
    )


def test_roc_auc_with_single_class_is_nan_and_warns_once():
    with pytest.warns(UndefinedMetricWarning, match="只有一类") as record:
        got = ours.roc_auc_score([1, 1, 1], [0.1, 0.2, 0.3])
    assert len(record) == 1
    assert np.isnan(got)
    assert np.isnan(sklearn_quietly(sk.roc_auc_score, [1, 1, 1], [0.1, 0.2, 0.3]))


@pytest.mark.parametrize("y_true", [[1, 1, 1], [0, 0, 0]])
def test_roc_curve_with_single_class_matches_sklearn(y_true):
    y_score = [0.1, 0.2, 0.3]
    with pytest.warns(UndefinedMetricWarning, match="ROC") as record:
        got = ours.roc_curve(y_true, y_score)
    assert len(record) == 1
    want = sklearn_quietly(sk.roc_curve, y_true, y_score)
    for got_part, want_part in zip(got, want):
        np.testing.assert_array_equal(got_part, want_part)


def test_pr_curve_without_positives_matches_sklearn():
    y_true, y_score = [0, 0, 0], [0.1, 0.2, 0.3]
    with pytest.warns(UndefinedMetricWarning, match="没有正类") as record:
        got = ours.precision_recall_curve(y_true, y_score)
    assert len(record) == 1
    want = sklearn_quietly(sk.precision_recall_curve, y_true, y_score)
    for got_part, want_part in zip(got, want):
        np.testing.assert_array_equal(got_part, want_part)


def test_average_precision_without_positives_is_zero_and_warns_once():
    with pytest.warns(UndefinedMetricWarning) as record:
        got = ours.average_precision_score([0, 0, 0], [0.1, 0.2, 0.3])
    assert len(record) == 1
    assert got == sklearn_quietly(sk.average_precision_score, [0, 0, 0], [0.1, 0.2, 0.3])


def test_average_precision_with_only_positives_is_one():
    assert ours.average_precision_score([1, 1, 1], [0.1, 0.2, 0.3]) == 1.0


def test_confusion_matrix_with_single_label_warns_once():
    with pytest.warns(UndefinedMetricWarning, match="labels=") as record:
        got = ours.confusion_matrix([1, 1], [1, 1])
    assert len(record) == 1
    np.testing.assert_array_equal(got, [[2]])
    np.testing.assert_array_equal(ours.confusion_matrix([1, 1], [1, 1], labels=[0, 1]), [[0, 0], [0, 2]])


def test_warning_points_at_caller():
    with pytest.warns(UndefinedMetricWarning) as record:
        ours.precision_score([0, 1], [0, 0])
    assert record[0].filename == __file__


# ---------------------------------------------------------------- 错误输入：中文错误，说出参数名与改法


def test_mismatched_lengths_name_both_arguments():
    with pytest.raises(ValueError, match="y_true 与 y_pred 的长度应相同，实际分别为 3 和 2"):
        ours.accuracy_score([0, 1, 1], [0, 1])


def test_mismatched_score_length_names_y_score():
    with pytest.raises(ValueError, match="y_true 与 y_score 的长度应相同"):
        ours.roc_auc_score([0, 1, 1], [0.2, 0.4])


def test_binary_average_rejects_three_classes():
    with pytest.raises(ValueError, match="average='binary' 要求二分类标签.*macro"):
        ours.f1_score([0, 1, 2], [0, 1, 1])


def test_binary_average_rejects_absent_pos_label():
    with pytest.raises(ValueError, match="pos_label=1 不是数据中的标签"):
        ours.f1_score([0, 2, 2], [0, 2, 0])


def test_roc_auc_rejects_multiclass_y_true():
    with pytest.raises(ValueError, match="roc_auc_score 只支持二分类"):
        ours.roc_auc_score([0, 1, 2], [0.1, 0.5, 0.9])


def test_roc_curve_rejects_ambiguous_labels():
    with pytest.raises(ValueError, match="pos_label"):
        ours.roc_curve([0, 2, 2], [0.1, 0.5, 0.3])


def test_roc_curve_rejects_multiclass_without_pos_label():
    with pytest.raises(ValueError, match="y_true 应为二分类标签"):
        ours.roc_curve([0, 1, 2], [0.1, 0.5, 0.3])


def test_average_precision_rejects_multiclass():
    with pytest.raises(ValueError, match="只支持二分类"):
        ours.average_precision_score([0, 1, 2], [0.1, 0.5, 0.9])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_curves_reject_non_finite_scores(bad):
    with pytest.raises(ValueError, match="y_score 中第 1 个值.*有限实数"):
        ours.roc_curve([0, 1], [0.3, bad])
    with pytest.raises(ValueError, match="y_score 中第 1 个值"):
        ours.roc_auc_score([0, 1], [0.3, bad])
    with pytest.raises(ValueError, match="y_score 中第 1 个值"):
        ours.precision_recall_curve([0, 1], [0.3, bad])


def test_predict_proba_output_gets_column_hint():
    with pytest.raises(ValueError, match=r"y_score 应为一维数组.*\[:, 1\]"):
        ours.roc_auc_score([0, 1], [[0.9, 0.1], [0.2, 0.8]])


def test_probabilities_as_labels_get_threshold_hint():
    with pytest.raises(ValueError, match=r"y_pred 应为类别标签.*y_score >= 0.5"):
        ours.f1_score([0, 1], [0.2, 0.7])


def test_string_labels_are_rejected():
    with pytest.raises(TypeError, match="y_true 应为数值数组，实际是字符串"):
        ours.accuracy_score(["正面", "负面"], [1, 0])


def test_non_numeric_objects_are_rejected():
    with pytest.raises(TypeError, match="y_score 应为数值数组"):
        ours.roc_auc_score([0, 1], [object(), object()])


def test_ragged_input_is_rejected():
    with pytest.raises(ValueError, match="y_true 无法转换为数组"):
        ours.accuracy_score([[0, 1], [1]], [0, 1])


def test_nan_labels_are_rejected():
    with pytest.raises(ValueError, match="y_pred 中含有 NaN"):
        ours.accuracy_score([0, 1], [0, np.nan])


def test_empty_input_is_rejected():
    with pytest.raises(ValueError, match="y_true 为空"):
        ours.accuracy_score([], [])


def test_unknown_average_is_rejected():
    with pytest.raises(ValueError, match="average 应为"):
        ours.precision_score([0, 1], [0, 1], average="weighted")


def test_unknown_zero_division_is_rejected():
    with pytest.raises(ValueError, match="zero_division 应为"):
        ours.precision_score([0, 1], [0, 1], zero_division=0.5)


def test_unknown_normalize_is_rejected():
    with pytest.raises(ValueError, match="normalize 应为"):
        ours.confusion_matrix([0, 1], [0, 1], normalize="rows")


@pytest.mark.parametrize(
    "y_true, y_pred",
    [([1e19], [2e19]), (np.array([2**64 - 1], dtype=np.uint64), [-1]), ([2**64], [0])],
)
def test_labels_beyond_int64_are_rejected(y_true, y_pred):
    with pytest.raises(ValueError, match="y_true 中的标签.*超出 int64"):
        ours.accuracy_score(y_true, y_pred)


def test_large_integer_float_labels_still_compare():
    assert ours.accuracy_score([2.0**62, 1.0], [2.0**62, 2.0]) == 0.5


@pytest.mark.parametrize(
    "call",
    [
        lambda: ours.confusion_matrix([0, 1], [0, 1], labels=[]),
        lambda: ours.precision_score([0, 1], [0, 1], labels=np.array([]), average="macro"),
    ],
)
def test_empty_labels_mean_no_classes(call):
    with pytest.raises(ValueError, match="labels 为空，即没有列出任何类别") as info:
        call()
    assert "样本" not in str(info.value)


def test_numpy_scalar_arguments_accepted():
    expected = sk.fbeta_score([0, 1, 1], [0, 1, 0], beta=2.0)
    _, _, f_beta, _ = ours.precision_recall_fscore_support([0, 1, 1], [0, 1, 0], beta=np.float32(2), average="binary")
    assert f_beta == pytest.approx(expected)
    assert ours.precision_score([0, 0], [0, 0], zero_division=np.float32(1.0)) == 1.0


def test_infinite_beta_is_rejected():
    with pytest.raises(ValueError, match="beta"):
        ours.precision_recall_fscore_support([0, 1], [0, 1], beta=float("inf"))
