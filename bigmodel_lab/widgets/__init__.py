"""ipywidgets 交互控件：每个控件驱动一张 matplotlib 图，按主题分在子模块里。"""
