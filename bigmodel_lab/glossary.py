"""术语表：本系列使用的中文术语、对应的英文，以及首次讲解它的笔记本。

仓库根目录的 GLOSSARY.md 由 render_glossary() 生成；修改术语后运行
`python -m bigmodel_lab.glossary GLOSSARY.md` 重新生成。笔记本在首次使用术语时写成
“中文（English）”，missing_first_uses() 检查已有的笔记本是否做到了。
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

# 系列中的笔记本（文件名去掉 .ipynb），按学习顺序排列。
SERIES = (
    "00_welcome",
    "01_activations",
    "02_losses",
    "03_optimizers",
    "04_self_attention",
    "05_multihead_attention",
    "06_transformer_block",
    "07_pretraining",
    "08_finetuning",
    "09_evaluation",
    "10_deployment",
    "11_compute_and_cost",
)


@dataclass(frozen=True)
class Term:
    """一条术语：中文、英文、英文缩写（没有时为空）与首次讲解它的笔记本。"""

    chinese: str
    english: str
    notebook: str
    abbreviation: str = ""

    def first_use_forms(self) -> tuple[str, ...]:
        """返回首次使用时可接受的写法开头：“中文（English”，有缩写时也接受“中文（缩写”。"""
        forms = [f"{self.chinese}（{self.english}"]
        if self.abbreviation:
            forms.append(f"{self.chinese}（{self.abbreviation}")
        return tuple(forms)


GLOSSARY = (
    Term("词元", "token", "00_welcome"),
    Term("词表", "vocabulary", "00_welcome"),
    Term("字符级分词器", "character tokenizer", "00_welcome"),
    Term("预设", "preset", "00_welcome"),
    Term("分层", "stratified", "00_welcome"),
    Term("激活函数", "activation function", "01_activations"),
    Term("梯度消失", "vanishing gradient", "01_activations"),
    Term("上溢", "overflow", "01_activations"),
    Term("损失函数", "loss function", "02_losses"),
    Term("均方误差", "mean squared error", "02_losses", "MSE"),
    Term("交叉熵", "cross-entropy", "02_losses"),
    Term("二元交叉熵", "binary cross-entropy", "02_losses"),
    Term("批大小", "batch size", "02_losses"),
    Term("梯度下降", "gradient descent", "03_optimizers"),
    Term("随机梯度下降", "stochastic gradient descent", "03_optimizers", "SGD"),
    Term("动量", "momentum", "03_optimizers"),
    Term("学习率", "learning rate", "03_optimizers"),
    Term("偏差修正", "bias correction", "03_optimizers"),
    Term("权重衰减", "weight decay", "03_optimizers"),
    Term("病态", "ill-conditioned", "03_optimizers"),
    Term("轮", "epoch", "03_optimizers"),
    Term("指数移动平均", "exponential moving average", "03_optimizers", "EMA"),
    Term("自注意力", "self-attention", "04_self_attention"),
    Term("查询、键、值", "query / key / value", "04_self_attention"),
    Term("缩放点积注意力", "scaled dot-product attention", "04_self_attention"),
    Term("嵌入", "embedding", "04_self_attention"),
    Term("掩码", "mask", "04_self_attention"),
    Term("因果掩码", "causal mask", "04_self_attention"),
    Term("填充掩码", "padding mask", "04_self_attention"),
    Term("饱和", "saturation", "04_self_attention"),
    Term("温度", "temperature", "04_self_attention"),
    Term("多头注意力", "multi-head attention", "05_multihead_attention"),
    Term("位置编码", "positional encoding", "06_transformer_block"),
    Term("层归一化", "layer normalization", "06_transformer_block"),
    Term("批归一化", "batch normalization", "06_transformer_block"),
    Term("残差连接", "residual connection", "06_transformer_block"),
    Term("前馈网络", "feed-forward network", "06_transformer_block"),
    Term("预训练", "pretraining", "07_pretraining"),
    Term("自动求导", "autograd", "07_pretraining"),
    Term("检查点", "checkpoint", "07_pretraining"),
    Term("混合精度", "mixed precision", "07_pretraining"),
    Term("困惑度", "perplexity", "07_pretraining"),
    Term("吞吐量", "throughput", "07_pretraining"),
    Term("算力利用率", "model FLOPs utilization", "07_pretraining", "MFU"),
    Term("微调", "fine-tuning", "08_finetuning"),
    Term("基线", "baseline", "08_finetuning"),
    Term("线性探测", "linear probe", "08_finetuning"),
    Term("低秩适配", "low-rank adaptation", "08_finetuning", "LoRA"),
    Term("混淆矩阵", "confusion matrix", "09_evaluation"),
    Term("准确率", "accuracy", "09_evaluation"),
    Term("精确率", "precision", "09_evaluation"),
    Term("召回率", "recall", "09_evaluation"),
    Term("F1 值", "F1 score", "09_evaluation"),
    Term("真正例", "true positive", "09_evaluation", "TP"),
    Term("假正例", "false positive", "09_evaluation", "FP"),
    Term("假负例", "false negative", "09_evaluation", "FN"),
    Term("真负例", "true negative", "09_evaluation", "TN"),
    Term("ROC 曲线下面积", "ROC AUC", "09_evaluation"),
    Term("平均精确率", "average precision", "09_evaluation", "AP"),
    Term("类别不平衡", "class imbalance", "09_evaluation"),
    Term("过采样", "oversampling", "09_evaluation"),
    Term("推理", "inference", "10_deployment"),
    Term("量化", "quantization", "10_deployment"),
    Term("剪枝", "pruning", "10_deployment"),
    Term("延迟", "latency", "10_deployment"),
)


def render_glossary(terms: tuple[Term, ...] = GLOSSARY) -> str:
    """把术语表排成 Markdown 页面：一张按笔记本顺序排列的表格，返回整页文本。

    notebook 不在 SERIES 中时抛出 ValueError。
    """
    unknown = sorted({term.notebook for term in terms} - set(SERIES))
    if unknown:
        raise ValueError(f"术语的 notebook 应为 SERIES 中的名字（例如 01_activations），实际有 {unknown}；请改正拼写。")

    ordered = sorted(terms, key=lambda term: SERIES.index(term.notebook))
    lines = [
        "# 术语表（Glossary）",
        "",
        "本系列使用的中文术语与对应的英文。笔记本在首次使用术语时写成“中文（English）”。",
        "本页由 `bigmodel_lab/glossary.py` 生成，请修改那里的 GLOSSARY 后运行",
        "`python -m bigmodel_lab.glossary GLOSSARY.md`，不要直接编辑本页。",
        "",
        "| 中文 | English | 缩写 | 首次讲解的笔记本 |",
        "|---|---|---|---|",
    ]
    for term in ordered:
        lines.append(f"| {term.chinese} | {term.english} | {term.abbreviation} | {term.notebook} |")
    return "\n".join(lines) + "\n"


def write_glossary(path: str | Path) -> Path:
    """把 render_glossary() 的页面以 UTF-8 写入 path，返回 path。"""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"path 应为文件，实际 {path} 是目录；例如传入 {path / 'GLOSSARY.md'}。")
    path.write_text(render_glossary(), encoding="utf-8", newline="\n")
    return path


def notebook_markdown(path: str | Path) -> str:
    """返回笔记本中全部 Markdown 单元的文字，单元之间用空行隔开。"""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = notebook.get("cells", [])
    return "\n\n".join("".join(cell["source"]) for cell in cells if cell.get("cell_type") == "markdown")


def missing_first_uses(notebook_dir: str | Path, terms: tuple[Term, ...] = GLOSSARY) -> dict[str, list[str]]:
    """检查 notebook_dir 中已有的笔记本，返回 {笔记本: [Markdown 里没有“中文（English”写法的术语]}。

    还不存在的笔记本跳过；全部写对时返回空字典。
    """
    notebook_dir = Path(notebook_dir)
    missing: dict[str, list[str]] = {}
    for term in terms:
        path = notebook_dir / f"{term.notebook}.ipynb"
        if not path.is_file():
            continue
        markdown = notebook_markdown(path)
        if not any(form in markdown for form in term.first_use_forms()):
            missing.setdefault(term.notebook, []).append(f"{term.chinese}（{term.english}）")
    return missing


def main(argv: list[str]) -> int:
    """命令行入口：把术语表写到给定路径，默认当前目录下的 GLOSSARY.md。"""
    path = write_glossary(argv[0] if argv else "GLOSSARY.md")
    print(f"已写入 {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
