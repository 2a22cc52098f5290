"""大模型动手实验室（bigmodel-lab）：笔记本中逐步推导的公式，在这里以经过测试的函数形式复用。

各模块按概念划分：device（设备与随机种子）、plotting（中文绘图）、data（数据集）、
tokenizer（字符分词器）、exercises（练习检查）、runner（无界面运行笔记本）。
"""

__version__ = "0.1.0"
