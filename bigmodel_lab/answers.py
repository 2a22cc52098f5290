"""练习的参考值：笔记本的检查单元通过 expected() 取值，而不是把答案写在检查调用里。

学生版（python -m bigmodel_lab student-edition）删去参考解答，但检查单元原样保留。参考值若是
检查调用里的字面量，学习者一眼就能从检查单元读出答案，所以学生版的检查单元只保留
``check_close(answer_1, expected("01_activations", 1), ...)`` 这样的调用。
自学时想核对答案，可以打开本文件，或者看教师版笔记本里的参考解答。

每道答案是一个数、一组数或一个选项的练习都在这里登记，包括由数据算出的值（如 00 的两题）：
在检查单元里现算参考值，同样会把解法摆在学习者眼前。用若干组输入检查函数的练习（check_function）
不在表中，它的测试输入写在检查单元里。
"""

from __future__ import annotations

# 笔记本名（文件名去掉 .ipynb）→ 练习编号 → 参考值。列表类答案存为元组，调用方改不动表里的值。
EXPECTED: dict[str, dict[int, object]] = {
    "00_welcome": {
        1: 6663 / 13888,  # 训练集中正面评论的比例：6663 条正面 / 13888 条
        2: 3139,  # 验证文本中不同字符的个数
    },
    "01_activations": {
        1: 0.104994,  # σ'(2) = σ(2)(1 - σ(2))
        3: "identity",  # 气温可取任意实数，输出层不能限制值域
    },
    "02_losses": {
        1: 0.5625,  # (0.25 + 0 + 1 + 1) / 4
        2: 0.169846,  # logsumexp([2, 0, -1]) - 2
        4: "B",  # binary_cross_entropy_with_logits(z, y)
    },
    "03_optimizers": {
        1: 0.08,  # |1 - 25η| < 1 ⇒ η < 2/25
        2: 2.0,  # (1 - β₁) / √(1 - β₂) = 0.2 / 0.1
        3: 0.03,  # η = (1 - β)·η' = 0.1 × 0.3
        4: 5e-4,  # 第 600 步在余弦段正中，cos(π/2) = 0
    },
    "04_self_attention": {
        1: (0.8044296825069569, 0.19557031749304313),  # softmax([2, 0] / √2)
        3: (512, 1),  # [Var(q·k), Var(q·k/√d_k)]
    },
    "05_multihead_attention": {
        3: (  # num_heads=4：每个头只用一列，缩放因子 1/√1
            (2.0164764057488203, 1.0, 1.0, 1.9099694268296195),
            (2.243302760162953, 1.0, 0.9999999999999998, 1.9099694268296195),
            (2.1960653176406186, 1.0, 1.0, 1.984123760023533),
        ),
        1: (64, 1050624),  # [512 / 8, 4·512² + 4·512]
    },
    "06_transformer_block": {
        1: 789760,  # 12d² + 13d，d = 256
        3: 1703936,  # 24d² + 4Td，d = 256，T = 128
    },
    "07_pretraining": {
        3: 3_565_632,  # 6(12d² + 2d) + V·d + T·d + d，d = 192，V = 4606，T = 128
        1: 30.0,  # 最后的损失为 nan 的学习率
        4: True,  # top_k=1 只剩概率最大的字，与贪心解码相同
    },
    "08_finetuning": {
        1: 2048,  # r(d_in + d_out) = 4 × (128 + 384)
        2: 2048 / 49152,  # r(d_in + d_out) / (d_in·d_out) = 4 × 512 / (128 × 384)
        3: "B",  # 填充位置也被平均，预测随批里最长评论变化
    },
    "09_evaluation": {
        4: 833 / 926,  # 1:9 测试集上好评的比例：833 条好评 / 926 条
        1: 35 / 45,  # TP / (TP + FP)
        3: "C",  # ROC AUC 只看分数的排序
    },
    "10_deployment": {
        1: (262_144, 65_536),  # 512 × 128 × 4 字节与 × 1 字节
        2: "C",  # 只有 weights_only=True 的白名单反序列化不执行代码
    },
    "11_compute_and_cost": {
        1: 354_823_168,  # GPT-2 medium：V·d + T·d + L(12d² + 13d) + 2d
        2: 5.88e22,  # 6 × 7e9 × 1.4e12
        3: 24.0,  # 1.5e9 × 16 字节 / 1e9
        4: 6 * 7e9 * 1.4e12 / (989e12 * 0.4) / 3600,  # FLOPs ÷（峰值 × 利用率）÷ 3600 秒
    },
}


def expected(notebook: str, number: int) -> object:
    """返回笔记本 notebook 中练习 number 的参考值。

    notebook 是去掉 .ipynb 的文件名，如 "01_activations"，number 是练习编号（从 1 开始）。
    参数类型不对时抛出 TypeError。表中没有这本笔记本或这道练习时抛出 LookupError，
    错误信息列出已登记的笔记本名或练习编号。
    """
    if not isinstance(notebook, str):
        raise TypeError(
            f'notebook 应为笔记本名字符串，如 "01_activations"，实际为 {type(notebook).__name__} 类型的 {notebook!r}。'
        )
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError(f"number 应为整数练习编号，如 1，实际为 {type(number).__name__} 类型的 {number!r}。")

    if notebook not in EXPECTED:
        known = "、".join(EXPECTED)
        raise LookupError(
            f"没有笔记本 {notebook!r} 的参考值。已登记的笔记本有：{known}。"
            '请写去掉 .ipynb 的完整文件名，如 "01_activations"。'
        )
    exercises = EXPECTED[notebook]
    if number not in exercises:
        known = "、".join(str(key) for key in exercises)
        raise LookupError(
            f"笔记本 {notebook} 没有练习 {number} 的参考值。已登记的练习编号有：{known}。"
            "用 check_function 检查的函数练习不在表中，它的测试输入写在检查单元里。"
        )
    return exercises[number]
