//! Names and ethnic groups of the synthetic population.
//!
//! Surname weights follow the published national frequencies (per hundred thousand
//! residents, rounded), leaning towards Henan: 郭, 马, 司 and 牛 are commoner there, the
//! southern 黄, 林, 梁, 曾, 覃 and 韦 rarer. Given names follow the fashions of three
//! generations, so a grandmother is 秀英 and her granddaughter 梓涵.

use chrono::{Datelike, NaiveDate};
use rand::Rng;

use crate::pick::Weighted;

/// (surname, weight per hundred thousand residents); the list covers about 98% of people.
pub const SURNAMES: &[(&str, u32)] = &[
    ("王", 7400),
    ("李", 7200),
    ("张", 7000),
    ("刘", 5400),
    ("陈", 4000),
    ("杨", 3300),
    ("赵", 2400),
    ("郭", 2300),
    ("周", 1900),
    ("马", 1800),
    ("孙", 1600),
    ("吴", 1600),
    ("徐", 1500),
    ("朱", 1400),
    ("黄", 1300),
    ("胡", 1300),
    ("高", 1200),
    ("宋", 1100),
    ("郑", 1000),
    ("何", 900),
    ("韩", 900),
    ("冯", 850),
    ("许", 800),
    ("曹", 800),
    ("董", 780),
    ("田", 760),
    ("程", 740),
    ("魏", 720),
    ("杜", 700),
    ("罗", 700),
    ("谢", 650),
    ("梁", 600),
    ("唐", 600),
    ("彭", 580),
    ("袁", 560),
    ("于", 560),
    ("任", 540),
    ("吕", 540),
    ("苏", 520),
    ("丁", 520),
    ("常", 500),
    ("贾", 500),
    ("姚", 480),
    ("蒋", 480),
    ("邓", 460),
    ("崔", 460),
    ("范", 440),
    ("姜", 420),
    ("卢", 420),
    ("肖", 400),
    ("蔡", 400),
    ("余", 380),
    ("叶", 380),
    ("潘", 360),
    ("沈", 340),
    ("石", 340),
    ("孟", 340),
    ("白", 330),
    ("牛", 320),
    ("侯", 320),
    ("秦", 310),
    ("司", 300),
    ("岳", 290),
    ("薛", 290),
    ("闫", 290),
    ("申", 280),
    ("樊", 280),
    ("段", 270),
    ("史", 260),
    ("陆", 250),
    ("汪", 240),
    ("付", 240),
    ("方", 230),
    ("乔", 230),
    ("郝", 220),
    ("贺", 210),
    ("尹", 200),
    ("邱", 200),
    ("武", 200),
    ("夏", 190),
    ("雷", 180),
    ("葛", 180),
    ("齐", 170),
    ("毛", 160),
    ("林", 160),
    ("康", 160),
    ("邵", 150),
    ("钱", 150),
    ("江", 150),
    ("顾", 140),
    ("曾", 140),
    ("龚", 130),
    ("万", 130),
    ("熊", 130),
    ("陶", 120),
    ("金", 120),
    ("戴", 110),
    ("严", 110),
    ("孔", 110),
    ("汤", 100),
    ("向", 90),
    ("易", 80),
    ("廖", 80),
    ("文", 80),
    ("施", 70),
    ("洪", 70),
    ("龙", 60),
    ("黎", 50),
    ("赖", 40),
    ("莫", 40),
    ("韦", 30),
    ("覃", 20),
    ("钟", 300),
    ("邹", 300),
    ("谭", 100),
    ("傅", 150),
    ("焦", 260),
    ("尚", 250),
    ("靳", 240),
    ("霍", 220),
    ("党", 200),
    ("鲁", 220),
    ("安", 220),
    ("卫", 180),
    ("时", 200),
    ("庞", 200),
    ("翟", 220),
    ("褚", 120),
    ("谷", 200),
    ("师", 180),
    ("祁", 140),
    ("柴", 180),
    ("邢", 200),
    ("路", 200),
    ("单", 160),
    ("宁", 150),
    ("温", 160),
    ("左", 150),
    ("殷", 150),
    ("耿", 200),
    ("关", 150),
    ("纪", 140),
    ("屈", 140),
    ("祝", 120),
    ("阎", 180),
    ("仝", 100),
    ("栗", 120),
    ("冀", 120),
    ("晁", 100),
    ("宗", 110),
    ("苗", 180),
    ("房", 150),
    ("吉", 120),
    ("楚", 110),
    ("禹", 100),
    ("蔺", 110),
    ("菅", 60),
    ("库", 60),
    ("亢", 60),
    ("景", 130),
    ("戚", 110),
    ("卜", 100),
    ("宫", 100),
    ("郎", 100),
    ("原", 100),
    ("游", 90),
    ("伍", 90),
    ("俞", 90),
    ("章", 90),
    ("甘", 100),
    ("包", 120),
    ("滕", 90),
    ("桑", 80),
    ("柳", 100),
    ("闻", 60),
    ("牟", 80),
    ("欧阳", 20),
    ("司马", 8),
    ("上官", 5),
    ("诸葛", 3),
];

/// Surnames commonest among the 回族 of the Central Plains, weighted the same way.
const HUI_SURNAMES: &[(&str, u32)] = &[
    ("马", 3000),
    ("白", 800),
    ("沙", 500),
    ("海", 400),
    ("哈", 300),
    ("穆", 300),
    ("丁", 600),
    ("杨", 700),
    ("李", 700),
    ("王", 800),
    ("张", 600),
    ("金", 300),
    ("米", 200),
    ("纳", 150),
];

/// The generation a given name is fashionable in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// Born before 1965: 建国, 秀英.
    Founding,
    /// Born 1965–1994: 伟, 丽娟.
    Reform,
    /// Born 1995 or later: 浩然, 梓涵.
    Millennial,
}

impl Era {
    pub fn of(birth: NaiveDate) -> Era {
        match birth.year() {
            ..1965 => Era::Founding,
            1965..1995 => Era::Reform,
            _ => Era::Millennial,
        }
    }
}

struct GivenPool {
    /// Share of one-character given names in this generation, in percent.
    single_pct: u32,
    singles: &'static [&'static str],
    doubles: &'static [&'static str],
    /// Characters combined freely into further two-character names.
    firsts: &'static [&'static str],
    seconds: &'static [&'static str],
}

const MALE_FOUNDING: GivenPool = GivenPool {
    single_pct: 30,
    singles: &[
        "军", "强", "明", "华", "勇", "刚", "平", "林", "成", "文", "忠", "国", "富", "贵", "海",
        "山", "福", "德", "生", "利",
    ],
    doubles: &[
        "建国", "建华", "建军", "国强", "国庆", "国华", "卫国", "卫东", "志强", "志明", "德明",
        "德胜", "保国", "振华", "文华", "长江", "永刚", "新民", "红军", "学文", "爱民", "建设",
        "金山", "宝山", "庆丰", "玉林", "春生", "秋生", "满仓", "留柱", "铁柱", "天顺", "解放",
        "跃进", "胜利", "根生",
    ],
    firsts: &[
        "建", "国", "志", "德", "永", "振", "保", "长", "学", "金", "玉", "春", "新",
    ],
    seconds: &[
        "华", "民", "林", "生", "明", "成", "山", "福", "安", "忠", "发", "友", "堂",
    ],
};

const FEMALE_FOUNDING: GivenPool = GivenPool {
    single_pct: 20,
    singles: &[
        "兰", "英", "华", "芳", "珍", "秀", "梅", "琴", "玲", "凤", "霞", "荣", "花", "娥",
    ],
    doubles: &[
        "秀英", "桂英", "秀兰", "玉兰", "桂兰", "淑珍", "凤英", "玉珍", "玉英", "桂芳", "秀珍",
        "素梅", "淑英", "秀云", "桂珍", "玉梅", "春梅", "爱华", "红梅", "素珍", "翠花", "桂香",
        "凤兰", "金凤", "巧云", "秀荣", "玉芝", "素芳", "爱兰", "凤琴",
    ],
    firsts: &[
        "秀", "桂", "玉", "淑", "凤", "素", "春", "金", "爱", "翠", "月", "巧",
    ],
    seconds: &[
        "英", "兰", "珍", "芳", "梅", "云", "香", "荣", "琴", "花", "莲", "娥", "霞",
    ],
};

const MALE_REFORM: GivenPool = GivenPool {
    single_pct: 40,
    singles: &[
        "伟", "磊", "勇", "军", "杰", "涛", "斌", "超", "明", "刚", "鹏", "辉", "强", "波", "亮",
        "峰", "浩", "鑫", "帅", "旭", "宁", "龙", "飞", "凯", "洋", "健", "冰", "坤", "猛", "锋",
    ],
    doubles: &[
        "建伟", "志刚", "海涛", "晓东", "宏伟", "俊杰", "国栋", "永强", "明辉", "志勇", "建峰",
        "亚飞", "小龙", "海峰", "文斌", "晓明", "振宇", "鹏飞", "少华", "红伟", "卫华", "新华",
        "晓峰", "春雷", "东升", "红涛", "利军", "国伟", "俊峰", "伟东", "向阳", "永生", "玉龙",
        "云飞", "占军",
    ],
    firsts: &[
        "建", "志", "海", "晓", "宏", "俊", "国", "永", "明", "振", "鹏", "少", "文", "红", "亚",
    ],
    seconds: &[
        "伟", "刚", "涛", "东", "杰", "栋", "强", "辉", "勇", "峰", "飞", "龙", "斌", "明", "磊",
    ],
};

const FEMALE_REFORM: GivenPool = GivenPool {
    single_pct: 40,
    singles: &[
        "静", "丽", "敏", "燕", "艳", "娟", "霞", "芳", "丹", "婷", "莉", "洁", "萍", "红", "玲",
        "倩", "璐", "颖", "雪", "慧", "琳", "蕾", "娜", "晶", "蓉",
    ],
    doubles: &[
        "丽娟", "晓燕", "秀丽", "海燕", "丽丽", "静静", "婷婷", "晓丽", "雪梅", "红霞", "亚楠",
        "艳红", "晓红", "丽华", "春燕", "晶晶", "莉莉", "佳佳", "文静", "玉洁", "晓静", "小红",
        "丹丹", "亚丽", "小丽", "彩霞", "冬梅", "慧敏", "海霞", "丽萍", "俊红", "艳丽", "利娟",
        "亚男",
    ],
    firsts: &[
        "丽", "晓", "秀", "海", "雪", "红", "亚", "艳", "春", "文", "玉", "慧", "彩", "冬",
    ],
    seconds: &[
        "娟", "燕", "丽", "梅", "霞", "楠", "红", "静", "洁", "敏", "萍", "琳", "芳", "颖",
    ],
};

const MALE_MILLENNIAL: GivenPool = GivenPool {
    single_pct: 10,
    singles: &[
        "浩", "宇", "轩", "睿", "博", "豪", "鑫", "哲", "阳", "晨", "凯", "昊", "航", "磊", "帆",
        "铭",
    ],
    doubles: &[
        "浩然", "子轩", "宇轩", "浩宇", "梓豪", "俊熙", "一鸣", "子墨", "宇航", "皓轩", "博文",
        "子豪", "泽宇", "天佑", "思远", "明轩", "睿泽", "煜祺", "嘉懿", "沐阳", "奕辰", "宇泽",
        "家豪", "家乐", "子恒", "晨阳", "锦程", "梓睿", "弘毅", "浩轩", "嘉豪", "俊宇", "逸飞",
        "承泽", "书航",
    ],
    firsts: &[
        "浩", "子", "宇", "梓", "俊", "一", "皓", "博", "泽", "天", "思", "明", "睿", "嘉", "奕",
    ],
    seconds: &[
        "然", "轩", "宇", "豪", "熙", "鸣", "墨", "航", "文", "佑", "远", "泽", "辰", "阳", "睿",
    ],
};

const FEMALE_MILLENNIAL: GivenPool = GivenPool {
    single_pct: 10,
    singles: &[
        "萱", "涵", "琪", "妍", "悦", "怡", "彤", "欣", "诺", "瑶", "雪", "璐", "冉", "楠", "菲",
        "婧",
    ],
    doubles: &[
        "梓涵", "一诺", "欣怡", "梓萱", "诗涵", "雨涵", "子涵", "可馨", "思涵", "佳怡", "紫涵",
        "若汐", "依诺", "语桐", "欣妍", "雨桐", "梦瑶", "佳琪", "思琪", "晨曦", "雨欣", "可欣",
        "梓晴", "婉清", "嘉怡", "安琪", "芷若", "沐晴", "子萱", "艺涵", "梦琪", "诗雨", "雅琪",
        "欣然", "佳宁",
    ],
    firsts: &[
        "梓", "一", "欣", "诗", "雨", "子", "可", "思", "佳", "紫", "若", "依", "语", "梦", "雅",
    ],
    seconds: &[
        "涵", "诺", "怡", "萱", "馨", "琪", "汐", "桐", "妍", "瑶", "曦", "欣", "晴", "清", "宁",
    ],
};

fn pool(era: Era, male: bool) -> &'static GivenPool {
    match (era, male) {
        (Era::Founding, true) => &MALE_FOUNDING,
        (Era::Founding, false) => &FEMALE_FOUNDING,
        (Era::Reform, true) => &MALE_REFORM,
        (Era::Reform, false) => &FEMALE_REFORM,
        (Era::Millennial, true) => &MALE_MILLENNIAL,
        (Era::Millennial, false) => &FEMALE_MILLENNIAL,
    }
}

/// Ethnic groups after 汉族 and 回族, by their weight in Henan's small remainder.
const OTHER_ETHNIC_GROUPS: &[(&str, u32)] = &[
    ("蒙古族", 30),
    ("满族", 30),
    ("壮族", 10),
    ("土家族", 8),
    ("苗族", 8),
    ("朝鲜族", 5),
    ("彝族", 4),
    ("维吾尔族", 3),
    ("藏族", 2),
];

pub const HAN: &str = "汉族";
pub const HUI: &str = "回族";

/// Samples surnames, given names and ethnic groups.
pub struct Namer {
    surnames: Weighted<&'static str>,
    hui_surnames: Weighted<&'static str>,
    others: Weighted<&'static str>,
}

impl Default for Namer {
    fn default() -> Self {
        Namer::new()
    }
}

impl Namer {
    pub fn new() -> Namer {
        Namer {
            surnames: Weighted::new(SURNAMES),
            hui_surnames: Weighted::new(HUI_SURNAMES),
            others: Weighted::new(OTHER_ETHNIC_GROUPS),
        }
    }

    pub fn surname<R: Rng>(&self, rng: &mut R, ethnicity: &str) -> &'static str {
        if ethnicity == HUI {
            self.hui_surnames.sample(rng)
        } else {
            self.surnames.sample(rng)
        }
    }

    pub fn given<R: Rng>(&self, rng: &mut R, male: bool, birth: NaiveDate) -> String {
        let p = pool(Era::of(birth), male);
        if rng.random_range(0..100) < p.single_pct {
            return p.singles[rng.random_range(0..p.singles.len())].to_string();
        }
        // Two in three two-character names are the generation's favourites, the rest combined.
        if rng.random_range(0..3) < 2 {
            return p.doubles[rng.random_range(0..p.doubles.len())].to_string();
        }
        let a = p.firsts[rng.random_range(0..p.firsts.len())];
        let mut b = p.seconds[rng.random_range(0..p.seconds.len())];
        if a == b {
            b = p.seconds
                [(p.seconds.iter().position(|s| *s == b).unwrap_or(0) + 1) % p.seconds.len()];
        }
        format!("{a}{b}")
    }

    /// An ethnic group, given the share of 回族 (per mille) where the person lives.
    pub fn ethnicity<R: Rng>(&self, rng: &mut R, hui_per_mille: u32) -> &'static str {
        let x = rng.random_range(0..1000);
        if x < hui_per_mille {
            HUI
        } else if x < hui_per_mille + 3 {
            self.others.sample(rng)
        } else {
            HAN
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use std::collections::HashMap;

    #[test]
    fn surnames_follow_the_weights() {
        let namer = Namer::new();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let n = 200_000;
        let mut counts: HashMap<&str, u32> = HashMap::new();
        for _ in 0..n {
            *counts.entry(namer.surname(&mut rng, HAN)).or_default() += 1;
        }
        let total: u32 = SURNAMES.iter().map(|(_, w)| w).sum();
        for (s, w) in &SURNAMES[..5] {
            let expected = f64::from(*w) / f64::from(total);
            let seen = f64::from(counts[s]) / f64::from(n);
            assert!((seen - expected).abs() < 0.005, "{s}: {seen} vs {expected}");
        }
        // The five commonest surnames cover about a third of people, as in China.
        let top5: u32 = ["王", "李", "张", "刘", "陈"]
            .iter()
            .map(|s| counts[s])
            .sum();
        let share = f64::from(top5) / f64::from(n);
        assert!((0.28..0.36).contains(&share), "top five share {share}");
        assert!(counts.len() > 90, "only {} surnames seen", counts.len());
    }

    #[test]
    fn given_names_are_one_or_two_characters_and_follow_the_era() {
        let namer = Namer::new();
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let old = NaiveDate::from_ymd_opt(1950, 5, 1).unwrap();
        let young = NaiveDate::from_ymd_opt(2015, 5, 1).unwrap();
        let mut young_doubles = 0;
        for _ in 0..2000 {
            for male in [true, false] {
                for birth in [old, young] {
                    let g = namer.given(&mut rng, male, birth);
                    let n = g.chars().count();
                    assert!((1..=2).contains(&n), "{g}");
                }
                if namer.given(&mut rng, male, young).chars().count() == 2 {
                    young_doubles += 1;
                }
            }
        }
        // Children born after 1995 mostly have two-character given names.
        assert!(young_doubles > 3400, "{young_doubles}");
        let girl_names: Vec<String> = (0..500)
            .map(|_| namer.given(&mut rng, false, young))
            .collect();
        assert!(!girl_names.iter().any(|g| g == "秀英"));
    }

    #[test]
    fn hui_people_are_mostly_ma_and_han_dominates() {
        let namer = Namer::new();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let ma = (0..1000)
            .filter(|_| namer.surname(&mut rng, HUI) == "马")
            .count();
        assert!(ma > 250, "{ma}");
        let han = (0..10_000)
            .filter(|_| namer.ethnicity(&mut rng, 10) == HAN)
            .count();
        assert!((9800..9950).contains(&han), "{han}");
    }
}
