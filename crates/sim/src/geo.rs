//! The map of the simulated city: Zhengzhou's twelve county-level divisions with their real
//! names and region codes, their sub-districts (街道), towns (镇) and townships (乡), and the
//! communities (社区) and villages (村) below them.
//!
//! Sub-district names follow Zhengzhou's where they are known; their codes, and every
//! community, are synthetic. Codes follow the statistical division scheme: nine digits for a
//! sub-district (`0xx` 街道, `1xx` 镇, `2xx` 乡) and twelve for a community (`0xx` 社区,
//! `2xx` 村). The map is the same for every seed, so departments keyed on it stay put.
//! 郑东新区, 高新区, 经开区 and 航空港区 are not region codes of their own in ID numbers;
//! they appear as the `area` of the sub-districts they administer.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub const CITY_CODE: &str = "410100";
pub const CITY_NAME: &str = "郑州市";

/// A county-level division of the city, as served by [`geography`](crate::geography).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct District {
    /// Six-digit region code, e.g. `410105`.
    pub code: String,
    pub name: String,
    /// `district` (市辖区), `county` (县) or `county_city` (县级市).
    pub kind: String,
    pub sub_districts: Vec<SubDistrict>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubDistrict {
    /// Nine-digit code, e.g. `410105002`.
    pub code: String,
    pub name: String,
    /// `subdistrict` (街道), `town` (镇) or `township` (乡).
    pub kind: String,
    /// The development zone that administers it (郑东新区, 高新区, …), if any.
    pub area: Option<String>,
    pub communities: Vec<Community>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Community {
    /// Twelve-digit code, e.g. `410105002003`.
    pub code: String,
    pub name: String,
    /// `community` (社区) or `village` (村).
    pub kind: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistrictKind {
    District,
    County,
    CountyCity,
}

impl DistrictKind {
    pub fn code(self) -> &'static str {
        match self {
            DistrictKind::District => "district",
            DistrictKind::County => "county",
            DistrictKind::CountyCity => "county_city",
        }
    }
}

struct DistrictDef {
    code: u32,
    name: &'static str,
    kind: DistrictKind,
    /// Registered residents, in ten thousands (approximately the 2020 census).
    residents: u32,
    /// Share of 回族 residents, per mille.
    hui_per_mille: u32,
    /// Typical price of a flat at the 2021 peak, yuan per square metre.
    price_per_m2: u32,
    units: &'static [(&'static str, Option<&'static str>)],
}

const ZD: Option<&str> = Some("郑东新区");
const GX: Option<&str> = Some("高新区");
const JK: Option<&str> = Some("经开区");
const HK: Option<&str> = Some("航空港区");

const DISTRICTS: &[DistrictDef] = &[
    DistrictDef {
        code: 410102,
        name: "中原区",
        kind: DistrictKind::District,
        residents: 96,
        hui_per_mille: 8,
        price_per_m2: 15_000,
        units: &[
            ("林山寨街道", None),
            ("建设路街道", None),
            ("棉纺路街道", None),
            ("秦岭路街道", None),
            ("三官庙街道", None),
            ("绿东村街道", None),
            ("汝河路街道", None),
            ("桐柏路街道", None),
            ("须水街道", None),
            ("中原西路街道", None),
            ("莲湖街道", None),
            ("航海西路街道", None),
            ("石佛街道", GX),
            ("沟赵街道", GX),
            ("枫杨街道", GX),
            ("梧桐街道", GX),
        ],
    },
    DistrictDef {
        code: 410103,
        name: "二七区",
        kind: DistrictKind::District,
        residents: 87,
        hui_per_mille: 10,
        price_per_m2: 15_000,
        units: &[
            ("淮河路街道", None),
            ("解放路街道", None),
            ("铭功路街道", None),
            ("一马路街道", None),
            ("蜜蜂张街道", None),
            ("五里堡街道", None),
            ("大学路街道", None),
            ("建中街街道", None),
            ("福华街街道", None),
            ("德化街街道", None),
            ("嵩山路街道", None),
            ("京广路街道", None),
            ("长江路街道", None),
            ("人和路街道", None),
            ("侯寨街道", None),
            ("马寨镇", None),
        ],
    },
    DistrictDef {
        code: 410104,
        name: "管城回族区",
        kind: DistrictKind::District,
        residents: 72,
        hui_per_mille: 60,
        price_per_m2: 14_000,
        units: &[
            ("北下街街道", None),
            ("西大街街道", None),
            ("南关街道", None),
            ("城东路街道", None),
            ("东大街街道", None),
            ("二里岗街道", None),
            ("陇海马路街道", None),
            ("紫荆山南路街道", None),
            ("航海东路街道", None),
            ("南曹街道", None),
            ("十八里河街道", None),
            ("潮河街道", JK),
            ("京航街道", JK),
            ("明湖街道", JK),
            ("九龙街道", JK),
            ("前程街道", JK),
        ],
    },
    DistrictDef {
        code: 410105,
        name: "金水区",
        kind: DistrictKind::District,
        residents: 170,
        hui_per_mille: 8,
        price_per_m2: 22_000,
        units: &[
            ("经八路街道", None),
            ("花园路街道", None),
            ("人民路街道", None),
            ("杜岭街道", None),
            ("大石桥街道", None),
            ("南阳路街道", None),
            ("南阳新村街道", None),
            ("文化路街道", None),
            ("丰产路街道", None),
            ("东风路街道", None),
            ("北林路街道", None),
            ("未来路街道", None),
            ("凤凰台街道", None),
            ("国基路街道", None),
            ("杨金路街道", None),
            ("丰庆路街道", None),
            ("兴达路街道", None),
            ("龙子湖街道", ZD),
            ("如意湖街道", ZD),
            ("博学路街道", ZD),
            ("祭城路街道", ZD),
            ("金光路街道", ZD),
            ("商都路街道", ZD),
            ("豫兴路街道", ZD),
        ],
    },
    DistrictDef {
        code: 410106,
        name: "上街区",
        kind: DistrictKind::District,
        residents: 14,
        hui_per_mille: 6,
        price_per_m2: 7_500,
        units: &[
            ("济源路街道", None),
            ("中心路街道", None),
            ("新安路街道", None),
            ("工业路街道", None),
            ("矿山街道", None),
            ("峡窝镇", None),
        ],
    },
    DistrictDef {
        code: 410108,
        name: "惠济区",
        kind: DistrictKind::District,
        residents: 58,
        hui_per_mille: 8,
        price_per_m2: 13_000,
        units: &[
            ("新城街道", None),
            ("刘寨街道", None),
            ("老鸦陈街道", None),
            ("长兴路街道", None),
            ("迎宾路街道", None),
            ("大河路街道", None),
            ("花园口镇", None),
            ("古荥镇", None),
        ],
    },
    DistrictDef {
        code: 410122,
        name: "中牟县",
        kind: DistrictKind::County,
        residents: 88,
        hui_per_mille: 10,
        price_per_m2: 9_500,
        units: &[
            ("青年路街道", None),
            ("东风路街道", None),
            ("广惠街街道", None),
            ("城关镇", None),
            ("韩寺镇", None),
            ("官渡镇", None),
            ("狼城岗镇", None),
            ("万滩镇", None),
            ("白沙镇", None),
            ("郑庵镇", None),
            ("黄店镇", None),
            ("大孟镇", None),
            ("九龙镇", None),
            ("刘集镇", None),
            ("八岗镇", None),
            ("雁鸣湖镇", None),
            ("姚家镇", None),
            ("张庄镇", HK),
        ],
    },
    DistrictDef {
        code: 410181,
        name: "巩义市",
        kind: DistrictKind::CountyCity,
        residents: 78,
        hui_per_mille: 6,
        price_per_m2: 6_500,
        units: &[
            ("新华路街道", None),
            ("杜甫路街道", None),
            ("永安路街道", None),
            ("孝义街道", None),
            ("紫荆路街道", None),
            ("米河镇", None),
            ("小关镇", None),
            ("竹林镇", None),
            ("大峪沟镇", None),
            ("河洛镇", None),
            ("站街镇", None),
            ("康店镇", None),
            ("北山口镇", None),
            ("西村镇", None),
            ("芝田镇", None),
            ("回郭镇", None),
            ("鲁庄镇", None),
            ("夹津口镇", None),
            ("涉村镇", None),
        ],
    },
    DistrictDef {
        code: 410182,
        name: "荥阳市",
        kind: DistrictKind::CountyCity,
        residents: 74,
        hui_per_mille: 12,
        price_per_m2: 8_000,
        units: &[
            ("京城路街道", None),
            ("索河街道", None),
            ("乔楼镇", None),
            ("豫龙镇", None),
            ("广武镇", None),
            ("王村镇", None),
            ("汜水镇", None),
            ("高山镇", None),
            ("刘河镇", None),
            ("崔庙镇", None),
            ("贾峪镇", None),
            ("城关乡", None),
            ("高村乡", None),
            ("金寨回族乡", None),
        ],
    },
    DistrictDef {
        code: 410183,
        name: "新密市",
        kind: DistrictKind::CountyCity,
        residents: 80,
        hui_per_mille: 6,
        price_per_m2: 6_500,
        units: &[
            ("青屏街街道", None),
            ("新华路街道", None),
            ("西大街街道", None),
            ("矿区街道", None),
            ("城关镇", None),
            ("米村镇", None),
            ("牛店镇", None),
            ("平陌镇", None),
            ("超化镇", None),
            ("苟堂镇", None),
            ("大隗镇", None),
            ("刘寨镇", None),
            ("白寨镇", None),
            ("岳村镇", None),
            ("来集镇", None),
            ("曲梁镇", None),
            ("袁庄乡", None),
        ],
    },
    DistrictDef {
        code: 410184,
        name: "新郑市",
        kind: DistrictKind::CountyCity,
        residents: 118,
        hui_per_mille: 8,
        price_per_m2: 9_000,
        units: &[
            ("新建路街道", None),
            ("新华路街道", None),
            ("新烟街道", None),
            ("和庄镇", None),
            ("薛店镇", None),
            ("孟庄镇", None),
            ("郭店镇", None),
            ("龙湖镇", None),
            ("梨河镇", None),
            ("辛店镇", None),
            ("观音寺镇", None),
            ("城关乡", None),
            ("八千乡", HK),
            ("龙王乡", HK),
        ],
    },
    DistrictDef {
        code: 410185,
        name: "登封市",
        kind: DistrictKind::CountyCity,
        residents: 70,
        hui_per_mille: 6,
        price_per_m2: 6_000,
        units: &[
            ("少林街道", None),
            ("中岳街道", None),
            ("嵩阳街道", None),
            ("卢店镇", None),
            ("告成镇", None),
            ("大金店镇", None),
            ("颍阳镇", None),
            ("东华镇", None),
            ("唐庄镇", None),
            ("宣化镇", None),
            ("徐庄镇", None),
            ("君召乡", None),
            ("石道乡", None),
            ("送表乡", None),
            ("白坪乡", None),
        ],
    },
];

const COMMUNITY_STEMS: &[&str] = &[
    "和平", "幸福", "光明", "东明", "南门", "西关", "北街", "新村", "园丁", "书香", "锦绣", "绿园",
    "春晖", "朝阳", "金桥", "银杏", "翠竹", "梧桐", "丁香", "牡丹", "玉兰", "月季", "紫荆", "嵩山",
    "黄河", "商城", "东方", "文苑", "学苑", "康乐", "安居", "福寿", "永安", "兴隆", "瑞祥", "泰和",
    "博雅", "丰乐", "振兴", "红旗", "胜利", "团结", "友谊", "民主", "工人", "电力", "铁路", "纺织",
    "银河", "星河", "阳光", "花园", "湖滨", "河畔", "桃园", "杏园", "梨园", "枫林", "松园", "柳园",
    "荷花", "桂花", "百花", "文化", "青年", "体育", "绿城", "天伦", "金域", "颐和",
];

const VILLAGE_SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "郭", "周", "马", "孙", "吴", "朱", "胡", "高", "宋",
    "郑", "韩", "冯", "许", "曹", "董", "田", "程", "魏", "杜", "谢", "常", "贾", "崔", "范", "牛",
    "侯", "秦", "岳", "薛", "申", "樊", "段", "史", "乔", "郝", "孟", "白", "付", "梁", "唐", "袁",
];
const VILLAGE_SUFFIXES: &[&str] = &[
    "庄", "寨", "营", "村", "沟", "岗", "楼", "店", "屯", "河", "湾", "坡", "集", "桥", "堂",
];
const VILLAGE_PREFIXES: &[&str] = &[
    "", "", "", "", "东", "西", "南", "北", "大", "小", "前", "后",
];

const ROADS: &[&str] = &[
    "花园路",
    "文化路",
    "经三路",
    "纬五路",
    "农业路",
    "金水路",
    "建设路",
    "中原路",
    "嵩山路",
    "大学路",
    "航海路",
    "陇海路",
    "紫荆山路",
    "未来路",
    "东风路",
    "黄河路",
    "商都路",
    "郑汴路",
    "桐柏路",
    "南阳路",
    "北环路",
    "国基路",
    "丰庆路",
    "长江路",
    "淮河路",
    "秦岭路",
    "伏牛路",
    "工人路",
    "百花路",
    "电厂路",
    "城东路",
    "姚砦路",
    "众意路",
    "金水东路",
    "农业东路",
    "中州大道",
    "京广路",
    "友爱路",
    "科学大道",
    "西三环",
    "须水河路",
    "化工路",
    "长椿路",
    "红松路",
    "银屏路",
    "平安大道",
    "人民路",
    "新华路",
    "解放路",
    "二七路",
    "兴华街",
    "政通路",
];

/// A primary (小学) or junior middle school (初级中学) and the communities it serves.
#[derive(Debug, Clone)]
pub struct SchoolInfo {
    pub school_id: String,
    pub name: String,
    /// `primary` or `junior`.
    pub level: &'static str,
    pub district: usize,
    pub sub_district_code: String,
    pub address: String,
    pub communities: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct CommunityInfo {
    pub code: String,
    pub name: String,
    pub village: bool,
    pub district: usize,
    pub sub_district: usize,
    /// The road households of an urban community live on, or the village itself.
    pub road: &'static str,
    pub gate_no: u32,
    pub primary_school: usize,
    pub junior_school: usize,
}

#[derive(Debug, Clone)]
pub struct SubDistrictInfo {
    pub code: String,
    pub name: &'static str,
    pub kind: &'static str,
    pub area: Option<&'static str>,
    pub district: usize,
}

#[derive(Debug, Clone)]
pub struct DistrictInfo {
    pub code: u32,
    pub code_str: String,
    pub name: &'static str,
    pub kind: DistrictKind,
    pub residents: u32,
    pub hui_per_mille: u32,
    pub price_per_m2: u32,
    /// The prefix of addresses here: "河南省郑州市金水区" or "河南省巩义市".
    pub address_prefix: String,
    /// The authority named on property certificates: 郑州市, or the county-level city.
    pub registry_city: &'static str,
}

/// Everything the generator needs to know about the city's ground.
#[derive(Debug, Clone)]
pub struct CityMap {
    pub districts: Vec<DistrictInfo>,
    pub sub_districts: Vec<SubDistrictInfo>,
    pub communities: Vec<CommunityInfo>,
    pub schools: Vec<SchoolInfo>,
}

/// Fixed, so the map never changes with the city's seed.
const MAP_SEED: u64 = 0x5A48_454E_475A_484F;

fn sub_district_kind(name: &str) -> &'static str {
    if name.ends_with("街道") {
        "subdistrict"
    } else if name.ends_with('镇') {
        "town"
    } else {
        "township"
    }
}

fn stem_of(name: &str) -> &str {
    name.strip_suffix("街道")
        .or_else(|| name.strip_suffix("回族乡"))
        .or_else(|| name.strip_suffix('镇'))
        .or_else(|| name.strip_suffix('乡'))
        .unwrap_or(name)
}

const ORDINALS: &[&str] = &["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

impl CityMap {
    pub fn build() -> CityMap {
        let mut rng = ChaCha8Rng::seed_from_u64(MAP_SEED);
        let mut districts = Vec::new();
        let mut sub_districts = Vec::new();
        let mut communities = Vec::new();
        let mut schools: Vec<SchoolInfo> = Vec::new();
        for (di, d) in DISTRICTS.iter().enumerate() {
            let (address_prefix, registry_city) = match d.kind {
                DistrictKind::CountyCity => (format!("河南省{}", d.name), d.name),
                _ => (format!("河南省郑州市{}", d.name), CITY_NAME),
            };
            districts.push(DistrictInfo {
                code: d.code,
                code_str: d.code.to_string(),
                name: d.name,
                kind: d.kind,
                residents: d.residents,
                hui_per_mille: d.hui_per_mille,
                price_per_m2: d.price_per_m2,
                address_prefix,
                registry_city,
            });
            let (mut n_sub, mut n_town, mut n_township) = (0, 0, 0);
            for &(name, area) in d.units {
                let kind = sub_district_kind(name);
                let no = match kind {
                    "subdistrict" => {
                        n_sub += 1;
                        n_sub
                    }
                    "town" => {
                        n_town += 1;
                        100 + n_town
                    }
                    _ => {
                        n_township += 1;
                        200 + n_township
                    }
                };
                let sd_code = format!("{}{:03}", d.code, no);
                let sdi = sub_districts.len();
                sub_districts.push(SubDistrictInfo {
                    code: sd_code.clone(),
                    name,
                    kind,
                    area,
                    district: di,
                });
                let (urban, villages) = match kind {
                    "subdistrict" => (rng.random_range(6..=10), 0),
                    "town" => (rng.random_range(2..=3), rng.random_range(8..=14)),
                    _ => (1, rng.random_range(8..=12)),
                };
                let first_community = communities.len();
                let mut used: Vec<String> = Vec::new();
                let own_road: Option<&'static str> = ROADS
                    .iter()
                    .copied()
                    .find(|r| name.strip_suffix("街道").is_some_and(|s| s == *r));
                for i in 0..urban {
                    let name = loop {
                        let stem = COMMUNITY_STEMS[rng.random_range(0..COMMUNITY_STEMS.len())];
                        let n = format!("{stem}社区");
                        if !used.contains(&n) {
                            break n;
                        }
                    };
                    used.push(name.clone());
                    let road = match own_road {
                        Some(r) if i % 2 == 0 => r,
                        _ => ROADS[rng.random_range(0..ROADS.len())],
                    };
                    communities.push(CommunityInfo {
                        code: format!("{sd_code}{:03}", i + 1),
                        name,
                        village: false,
                        district: di,
                        sub_district: sdi,
                        road,
                        gate_no: rng.random_range(1..=300),
                        primary_school: 0,
                        junior_school: 0,
                    });
                }
                for i in 0..villages {
                    let name = loop {
                        let p = VILLAGE_PREFIXES[rng.random_range(0..VILLAGE_PREFIXES.len())];
                        let s = VILLAGE_SURNAMES[rng.random_range(0..VILLAGE_SURNAMES.len())];
                        let x = VILLAGE_SUFFIXES[rng.random_range(0..VILLAGE_SUFFIXES.len())];
                        let n = if x == "村" {
                            format!("{p}{s}村")
                        } else {
                            format!("{p}{s}{x}村")
                        };
                        if !used.contains(&n) {
                            break n;
                        }
                    };
                    used.push(name.clone());
                    communities.push(CommunityInfo {
                        code: format!("{sd_code}{:03}", 200 + i + 1),
                        name,
                        village: true,
                        district: di,
                        sub_district: sdi,
                        road: "",
                        gate_no: 0,
                        primary_school: 0,
                        junior_school: 0,
                    });
                }
                // School districts: a primary school for every three communities, a junior
                // middle school for every eight, each serving a contiguous run of them.
                let served = first_community..communities.len();
                let n = served.len();
                let stem = stem_of(name);
                for (level, per, suffix) in [("primary", 3, "小学"), ("junior", 8, "初级中学")]
                {
                    let count = n.div_ceil(per);
                    for k in 0..count {
                        let school_name = if count == 1 {
                            format!("{}{stem}{suffix}", d.name)
                        } else {
                            format!("{}{stem}第{}{suffix}", d.name, ORDINALS[k % ORDINALS.len()])
                        };
                        let idx = schools.len();
                        let chunk: Vec<usize> = served
                            .clone()
                            .filter(|c| (c - first_community) * count / n == k)
                            .collect();
                        for &c in &chunk {
                            if level == "primary" {
                                communities[c].primary_school = idx;
                            } else {
                                communities[c].junior_school = idx;
                            }
                        }
                        let road = ROADS[rng.random_range(0..ROADS.len())];
                        schools.push(SchoolInfo {
                            school_id: String::new(),
                            name: school_name,
                            level,
                            district: di,
                            sub_district_code: sd_code.clone(),
                            address: format!(
                                "{}{road}{}号",
                                districts[di].address_prefix,
                                rng.random_range(1..=400)
                            ),
                            communities: chunk
                                .iter()
                                .map(|&c| communities[c].code.clone())
                                .collect(),
                        });
                    }
                }
            }
        }
        // National school identification codes are ten digits; ours are the district code and
        // a running number within it.
        let mut per_district = vec![0u32; districts.len()];
        for s in &mut schools {
            per_district[s.district] += 1;
            s.school_id = format!(
                "{}{:04}",
                districts[s.district].code, per_district[s.district]
            );
        }
        CityMap {
            districts,
            sub_districts,
            communities,
            schools,
        }
    }

    /// The nested public view of the map.
    pub fn nested(&self) -> Vec<District> {
        let mut out: Vec<District> = self
            .districts
            .iter()
            .map(|d| District {
                code: d.code_str.clone(),
                name: d.name.to_string(),
                kind: d.kind.code().to_string(),
                sub_districts: Vec::new(),
            })
            .collect();
        for sd in &self.sub_districts {
            out[sd.district].sub_districts.push(SubDistrict {
                code: sd.code.clone(),
                name: sd.name.to_string(),
                kind: sd.kind.to_string(),
                area: sd.area.map(str::to_string),
                communities: Vec::new(),
            });
        }
        for c in &self.communities {
            let sd = &self.sub_districts[c.sub_district];
            let d = &mut out[sd.district];
            let target = d
                .sub_districts
                .iter_mut()
                .find(|s| s.code == sd.code)
                .expect("sub-district listed");
            target.communities.push(Community {
                code: c.code.clone(),
                name: c.name.clone(),
                kind: if c.village { "village" } else { "community" }.to_string(),
            });
        }
        out
    }
}

/// The city's map without a database: districts, sub-districts and communities, by code.
pub fn zhengzhou() -> Vec<District> {
    CityMap::build().nested()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn map_has_the_twelve_divisions_and_unique_codes() {
        let map = CityMap::build();
        let names: Vec<&str> = map.districts.iter().map(|d| d.name).collect();
        assert_eq!(names.len(), 12);
        assert!(names.contains(&"管城回族区") && names.contains(&"登封市"));
        let mut codes = HashSet::new();
        for sd in &map.sub_districts {
            assert_eq!(sd.code.len(), 9);
            assert!(codes.insert(sd.code.clone()), "{}", sd.code);
        }
        for c in &map.communities {
            assert_eq!(c.code.len(), 12);
            assert!(c.code.starts_with(&map.sub_districts[c.sub_district].code));
            assert!(codes.insert(c.code.clone()), "{}", c.code);
            assert_eq!(c.village, c.name.ends_with('村'));
        }
        assert!(map.communities.len() > 1500, "{}", map.communities.len());
    }

    #[test]
    fn every_community_has_a_primary_and_a_junior_school_in_its_sub_district() {
        let map = CityMap::build();
        for c in &map.communities {
            let p = &map.schools[c.primary_school];
            let j = &map.schools[c.junior_school];
            assert_eq!(p.level, "primary");
            assert_eq!(j.level, "junior");
            let sd = &map.sub_districts[c.sub_district].code;
            assert_eq!(&p.sub_district_code, sd);
            assert_eq!(&j.sub_district_code, sd);
            assert!(p.communities.contains(&c.code) && j.communities.contains(&c.code));
        }
        let ids: HashSet<&str> = map.schools.iter().map(|s| s.school_id.as_str()).collect();
        assert_eq!(ids.len(), map.schools.len());
        let names: HashSet<&str> = map.schools.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names.len(), map.schools.len());
    }

    #[test]
    fn map_is_the_same_every_time() {
        assert_eq!(zhengzhou(), zhengzhou());
        let jinshui = zhengzhou()
            .into_iter()
            .find(|d| d.code == "410105")
            .unwrap();
        assert_eq!(jinshui.name, "金水区");
        let zd = jinshui
            .sub_districts
            .iter()
            .filter(|s| s.area.as_deref() == Some("郑东新区"));
        assert_eq!(zd.count(), 7);
    }
}
