"""字符级分词器（character tokenizer）：一个汉字或符号就是一个词元（token）。"""

from __future__ import annotations

import numbers
from collections import Counter
from collections.abc import Iterable

import numpy as np

UNK = "<unk>"
PAD = "<pad>"


class CharTokenizer:
    """把文本逐字符映射为整数编号，词表外的字符映射到 <unk>。

    NOTE: 真实的大模型用 BPE 等子词分词；这里用字符，词表小、原理直观，代价是序列更长。
    编号 0 是 <unk>，1 是 <pad>（分类时把短评论补齐到同一长度），其余字符按出现次数从多到少排列。
    """

    def __init__(self, chars: Iterable[str]):
        chars = list(chars)
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ValueError(f"词表中的每一项都应是单个字符，发现 {bad[:3]!r}；请检查传入的 chars。")
        if len(set(chars)) != len(chars):
            raise ValueError("词表中有重复字符；请先去重再构造 CharTokenizer。")
        self.itos = [UNK, PAD, *chars]
        self.stoi = {token: index for index, token in enumerate(self.itos)}
        self.unk_id = 0
        self.pad_id = 1

    @classmethod
    def from_text(cls, text: str | Iterable[str], min_count: int = 1) -> CharTokenizer:
        """从文本（或文本列表）统计字符，出现次数不少于 min_count 的字符进入词表。"""
        counts: Counter[str] = Counter()
        if isinstance(text, str):
            counts.update(text)
        elif isinstance(text, Iterable) and not isinstance(text, (bytes, bytearray)):
            for piece in text:
                if not isinstance(piece, str):
                    raise TypeError(
                        f"from_text 的文本列表中每一项都应是字符串，发现 {type(piece).__name__}：{piece!r:.60}；"
                        "请传入字符串或字符串列表。"
                    )
                counts.update(piece)
        else:
            hint = "；字节串请先 .decode('utf-8')" if isinstance(text, (bytes, bytearray)) else ""
            raise TypeError(
                f"from_text 需要字符串或字符串列表，实际收到 {type(text).__name__}：{text!r:.60}{hint}。"
            )
        # 次数相同时按字符排序，保证同一份数据每次得到同一个词表。
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return cls(char for char, count in ordered if count >= min_count)

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        """把字符串编码为编号列表；词表外的字符编码为 0（<unk>）。"""
        if not isinstance(text, str):
            raise TypeError(f"encode 需要字符串，实际收到 {type(text).__name__}：{text!r:.60}")
        get = self.stoi.get
        return [get(char, 0) for char in text]

    def encode_array(self, text: str) -> np.ndarray:
        """与 encode 相同，但返回 int64 的 NumPy 数组，适合长文本。"""
        if not isinstance(text, str):
            raise TypeError(f"encode_array 需要字符串，实际收到 {type(text).__name__}：{text!r:.60}；请传入要编码的文本。")
        return np.fromiter((self.stoi.get(c, 0) for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids: Iterable[int]) -> str:
        """把编号序列还原为字符串；<pad> 被跳过。词表内的文本满足 decode(encode(s)) == s。

        ids 可以是整数列表、一维的 NumPy 数组或 torch 张量；一次只解码一条序列。
        """
        if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
            raise TypeError(
                f"decode 需要整数编号的序列，实际收到 {type(ids).__name__}：{ids!r:.60}；"
                "请传入例如 tok.decode([5, 8, 2])。"
            )
        ndim = getattr(ids, "ndim", None)  # NumPy 数组与 torch 张量都有 ndim
        if ndim == 0:
            raise ValueError(f"decode 需要一维的编号序列，实际收到单个编号 {ids!r:.60}；请传入例如 tok.decode([5])。")
        if ndim is not None and ndim != 1:
            raise ValueError(
                f"decode 一次只解码一条序列，应为一维，实际收到形状 {tuple(ids.shape)} 的 {ndim} 维数据；"
                "批量输出请只传一行，例如 tok.decode(out[0])。"
            )
        size = len(self.itos)
        pieces = []
        for index in ids:
            if getattr(index, "ndim", None) == 0:
                index = index.item()  # 0 维张量或数组取出 Python 数值
            if isinstance(index, bool) or not isinstance(index, numbers.Integral):
                if isinstance(index, Iterable):
                    hint = "批量输出请只传一行，例如 tok.decode(out[0])"
                else:
                    hint = "编号应是 encode 或 generate 给出的整数"
                raise TypeError(f"decode 的编号应为整数，发现 {type(index).__name__}：{index!r:.60}；{hint}。")
            index = int(index)
            if not 0 <= index < size:
                raise ValueError(f"编号 {index} 超出词表范围 [0, {size})；请检查模型输出或词表是否匹配。")
            if index != self.pad_id:
                pieces.append(self.itos[index])
        return "".join(pieces)

    def unknown_rate(self, text: str) -> float:
        """返回文本中词表外字符所占的比例。"""
        if not isinstance(text, str):
            raise TypeError(
                f"unknown_rate 需要字符串，实际收到 {type(text).__name__}：{text!r:.60}；"
                "文本列表请先用 \"\".join(texts) 拼成一个字符串。"
            )
        if not text:
            return 0.0
        return sum(char not in self.stoi for char in text) / len(text)

    def to_dict(self) -> dict:
        """导出为可写入 JSON 或检查点的字典。"""
        return {"chars": self.itos[2:]}

    @classmethod
    def from_dict(cls, state: dict) -> CharTokenizer:
        """从 to_dict() 的结果重建分词器。"""
        if not isinstance(state, dict) or "chars" not in state:
            raise ValueError("分词器状态应是含 'chars' 键的字典，即 CharTokenizer.to_dict() 的返回值。")
        return cls(state["chars"])
