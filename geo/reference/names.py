"""Word lists for generated Chinese names: people, roads.

Road stems are ordinary place words of the kind Shapingba's roads are named after (many
from its own community names); people's names draw surnames by rough frequency.
"""

from __future__ import annotations

import numpy as np

SURNAMES = (
    "陈李张刘王杨周黄何罗谭唐吴赵徐胡朱冉向邓曾彭蒋谢刘杨张李陈王黄周"
    "余熊郑袁秦冯马孙高林韩梁付程苏卢蔡丁魏钟廖任田姚汪傅蒲文"
)
GIVEN = "德明华建国志永庆晓红丽芳静敏燕玲霞娟军伟强勇杰涛斌超磊鹏浩宇欣怡婷雪梅兰琴秀英平波刚辉亮成"

ROAD_STEMS = (
    "汉渝",
    "天陈",
    "沙南",
    "沙北",
    "凤天",
    "站东",
    "站西",
    "三峡",
    "梨树湾",
    "高庙",
    "马家岩",
    "烈士墓",
    "新华",
    "沙滨",
    "滨江",
    "嘉陵",
    "凤鸣山",
    "回龙",
    "平顶山",
    "林园",
    "学府",
    "西城",
    "北城",
    "南城",
    "东城",
    "科苑",
    "育才",
    "富康",
    "微电园",
    "曙光",
    "光明",
    "正阳",
    "红岩",
    "梅岭",
    "白鹤",
    "竹林",
    "松林",
    "枫香",
    "桂花",
    "兰花",
    "玉兰",
    "海棠",
    "青龙",
    "黄桷",
    "银杏",
    "香樟",
    "石门",
    "龙湾",
    "双龙",
    "永祥",
    "清悦",
    "丰盛",
    "崇贤",
    "圣泉",
    "学堂",
    "棕树湾",
    "石牛",
    "复兴",
    "花马",
    "虎峰",
    "康宁",
    "嘉新",
    "建工",
    "劳动",
    "金碧",
    "金蓉",
    "五灵观",
    "文苑",
    "壮志",
    "和睦",
    "建设",
    "光荣",
    "自由",
    "堆金",
    "勤居",
    "经济",
    "果园",
    "松堡",
    "柏杨",
    "高店子",
    "高滩岩",
    "晒光坪",
    "梨园",
    "金星",
    "大学城",
    "景苑",
    "福星",
    "康居",
    "思贤",
    "文华",
    "杨公桥",
    "石碾盘",
    "土湾",
    "覃家岗",
    "联芳",
    "井口",
    "童家桥",
    "石井坡",
    "歌乐山",
    "陈家桥",
    "虎溪",
    "西永",
    "丰文",
    "香炉山",
    "土主",
    "青木关",
    "天星桥",
    "小龙坎",
    "磁器口",
    "双碑",
)
ROAD_SUFFIXES = (
    "路",
    "街",
    "正街",
    "支路",
    "大道",
    "巷",
    "横街",
    "一路",
    "二路",
    "三路",
    "东路",
    "西路",
    "南路",
    "北路",
    "中路",
)


def person_name(rng: np.random.Generator) -> str:
    surname = SURNAMES[int(rng.integers(len(SURNAMES)))]
    length = 1 if rng.random() < 0.3 else 2
    return surname + "".join(GIVEN[int(rng.integers(len(GIVEN)))] for _ in range(length))


def road_pool(rng: np.random.Generator) -> list[str]:
    """Every stem x suffix combination, in a seeded order."""
    pool = [stem + suffix for stem in ROAD_STEMS for suffix in ROAD_SUFFIXES]
    order = rng.permutation(len(pool))
    return [pool[i] for i in order]
