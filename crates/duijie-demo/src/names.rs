//! Chinese personal names (with pinyin for e-mail addresses), phone numbers and e-mails.

use std::collections::HashSet;

use crate::rng::Rng;

/// Surnames with their pinyin, including several common in north-east China (佟, 关, 隋, 曲…).
const SURNAMES: &[(&str, &str)] = &[
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("赵", "zhao"),
    ("黄", "huang"),
    ("周", "zhou"),
    ("吴", "wu"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("胡", "hu"),
    ("朱", "zhu"),
    ("高", "gao"),
    ("林", "lin"),
    ("何", "he"),
    ("郭", "guo"),
    ("马", "ma"),
    ("罗", "luo"),
    ("梁", "liang"),
    ("宋", "song"),
    ("郑", "zheng"),
    ("谢", "xie"),
    ("韩", "han"),
    ("唐", "tang"),
    ("冯", "feng"),
    ("于", "yu"),
    ("董", "dong"),
    ("程", "cheng"),
    ("曹", "cao"),
    ("袁", "yuan"),
    ("邓", "deng"),
    ("许", "xu"),
    ("傅", "fu"),
    ("沈", "shen"),
    ("曾", "zeng"),
    ("彭", "peng"),
    ("吕", "lv"),
    ("苏", "su"),
    ("卢", "lu"),
    ("蒋", "jiang"),
    ("蔡", "cai"),
    ("贾", "jia"),
    ("丁", "ding"),
    ("魏", "wei"),
    ("薛", "xue"),
    ("叶", "ye"),
    ("阎", "yan"),
    ("潘", "pan"),
    ("杜", "du"),
    ("戴", "dai"),
    ("夏", "xia"),
    ("钟", "zhong"),
    ("田", "tian"),
    ("任", "ren"),
    ("姜", "jiang"),
    ("范", "fan"),
    ("方", "fang"),
    ("石", "shi"),
    ("姚", "yao"),
    ("谭", "tan"),
    ("邹", "zou"),
    ("金", "jin"),
    ("陆", "lu"),
    ("郝", "hao"),
    ("孔", "kong"),
    ("白", "bai"),
    ("崔", "cui"),
    ("康", "kang"),
    ("毛", "mao"),
    ("邱", "qiu"),
    ("秦", "qin"),
    ("史", "shi"),
    ("顾", "gu"),
    ("侯", "hou"),
    ("邵", "shao"),
    ("孟", "meng"),
    ("万", "wan"),
    ("段", "duan"),
    ("雷", "lei"),
    ("钱", "qian"),
    ("尹", "yin"),
    ("常", "chang"),
    ("武", "wu"),
    ("乔", "qiao"),
    ("贺", "he"),
    ("关", "guan"),
    ("佟", "tong"),
    ("隋", "sui"),
    ("曲", "qu"),
    ("邢", "xing"),
    ("鲍", "bao"),
    ("宫", "gong"),
    ("齐", "qi"),
    ("温", "wen"),
    ("葛", "ge"),
    ("庞", "pang"),
];

/// Given names with their pinyin: a mix of one- and two-character names.
const GIVEN: &[(&str, &str)] = &[
    ("伟", "wei"),
    ("芳", "fang"),
    ("敏", "min"),
    ("静", "jing"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("刚", "gang"),
    ("鑫", "xin"),
    ("颖", "ying"),
    ("健", "jian"),
    ("琳", "lin"),
    ("彬", "bin"),
    ("旭", "xu"),
    ("丹", "dan"),
    ("博", "bo"),
    ("瑞", "rui"),
    ("宁", "ning"),
    ("峰", "feng"),
    ("晶", "jing"),
    ("建华", "jianhua"),
    ("志强", "zhiqiang"),
    ("晓东", "xiaodong"),
    ("海波", "haibo"),
    ("立新", "lixin"),
    ("国庆", "guoqing"),
    ("振宇", "zhenyu"),
    ("宏伟", "hongwei"),
    ("春雨", "chunyu"),
    ("雪梅", "xuemei"),
    ("思远", "siyuan"),
    ("博文", "bowen"),
    ("晨阳", "chenyang"),
    ("佳琪", "jiaqi"),
    ("庆丰", "qingfeng"),
    ("德胜", "desheng"),
    ("永刚", "yonggang"),
    ("玉兰", "yulan"),
    ("凤霞", "fengxia"),
    ("铁军", "tiejun"),
    ("长海", "changhai"),
    ("鹏飞", "pengfei"),
    ("宇航", "yuhang"),
    ("浩然", "haoran"),
    ("天翔", "tianxiang"),
    ("东升", "dongsheng"),
    ("亚楠", "yanan"),
    ("红梅", "hongmei"),
    ("俊杰", "junjie"),
    ("婷婷", "tingting"),
    ("志刚", "zhigang"),
    ("海燕", "haiyan"),
    ("冬梅", "dongmei"),
    ("忠良", "zhongliang"),
    ("广才", "guangcai"),
    ("学军", "xuejun"),
    ("艳秋", "yanqiu"),
    ("书文", "shuwen"),
    ("连生", "liansheng"),
    ("晓光", "xiaoguang"),
    ("一鸣", "yiming"),
    ("雨桐", "yutong"),
    ("明哲", "mingzhe"),
    ("秋实", "qiushi"),
    ("文静", "wenjing"),
    ("国栋", "guodong"),
    ("立群", "liqun"),
    ("少华", "shaohua"),
    ("云龙", "yunlong"),
    ("丽娜", "lina"),
    ("金凤", "jinfeng"),
    ("守仁", "shouren"),
    ("成林", "chenglin"),
    ("兆丰", "zhaofeng"),
    ("维嘉", "weijia"),
    ("子健", "zijian"),
    ("慧敏", "huimin"),
    ("玉洁", "yujie"),
    ("英杰", "yingjie"),
    ("嘉宁", "jianing"),
    ("长青", "changqing"),
    ("振华", "zhenhua"),
    ("庆伟", "qingwei"),
    ("晓燕", "xiaoyan"),
    ("海涛", "haitao"),
    ("春光", "chunguang"),
    ("文斌", "wenbin"),
    ("美玲", "meiling"),
    ("国良", "guoliang"),
    ("新宇", "xinyu"),
    ("若曦", "ruoxi"),
    ("天宇", "tianyu"),
    ("梦瑶", "mengyao"),
    ("承志", "chengzhi"),
    ("永辉", "yonghui"),
    ("淑珍", "shuzhen"),
    ("景阳", "jingyang"),
    ("树森", "shusen"),
    ("大伟", "dawei"),
    ("红岩", "hongyan"),
    ("雅琴", "yaqin"),
    ("泽民", "zemin"),
    ("柏林", "bailin"),
    ("思琪", "siqi"),
];

/// A generated person.
#[derive(Debug, Clone)]
pub struct Person {
    /// Name in Chinese characters.
    pub name: String,
    /// Name in pinyin, lower case, no spaces (for e-mail addresses).
    pub pinyin: String,
}

/// Hands out names, e-mails and phone numbers, keeping names and addresses unique.
#[derive(Debug, Default)]
pub struct People {
    names: HashSet<String>,
    emails: HashSet<String>,
}

impl People {
    /// A person whose name has not been handed out before.
    pub fn person(&mut self, rng: &mut Rng) -> Person {
        loop {
            let (s, sp) = rng.pick(SURNAMES);
            let (g, gp) = rng.pick(GIVEN);
            let name = format!("{s}{g}");
            if self.names.insert(name.clone()) {
                return Person {
                    name,
                    pinyin: format!("{sp}{gp}"),
                };
            }
        }
    }

    /// A unique address `pinyin@domain`, adding a digit when the plain form is taken.
    pub fn email(&mut self, pinyin: &str, domain: &str) -> String {
        let mut n = 1;
        loop {
            let local = if n == 1 {
                pinyin.to_string()
            } else {
                format!("{pinyin}{n}")
            };
            let email = format!("{local}@{domain}");
            if self.emails.insert(email.clone()) {
                return email;
            }
            n += 1;
        }
    }
}

/// Area code of a city, and how many digits local numbers have there.
fn area_code(city: &str) -> (&'static str, usize) {
    match city {
        "沈阳" | "抚顺" | "本溪" | "铁岭" | "沈抚示范区" => ("024", 8),
        "大连" => ("0411", 8),
        "鞍山" => ("0412", 7),
        "丹东" => ("0415", 7),
        "锦州" => ("0416", 7),
        "营口" => ("0417", 7),
        "阜新" => ("0418", 7),
        "辽阳" => ("0419", 7),
        "朝阳" => ("0421", 7),
        "盘锦" => ("0427", 7),
        "葫芦岛" => ("0429", 7),
        "北京" => ("010", 8),
        "哈尔滨" => ("0451", 8),
        "长春" => ("0431", 8),
        _ => ("024", 8),
    }
}

/// An office number in the city, e.g. `024-23891234`.
pub fn landline(city: &str, rng: &mut Rng) -> String {
    let (code, len) = area_code(city);
    let first = rng.pick(&["2", "3", "5", "6", "8"]);
    format!("{code}-{first}{}", rng.digits(len - 1))
}

/// A mobile number, e.g. `13812345678`.
pub fn mobile(rng: &mut Rng) -> String {
    const PREFIXES: &[&str] = &[
        "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
        "156", "158", "159", "180", "185", "186", "187", "188", "189", "177", "199",
    ];
    format!("{}{}", rng.pick(PREFIXES), rng.digits(8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_surnames_and_names_are_unique() {
        let set: HashSet<_> = SURNAMES.iter().map(|s| s.0).collect();
        assert!(set.len() >= 60 && set.len() == SURNAMES.len());
        let mut people = People::default();
        let mut rng = Rng::new(1);
        let names: HashSet<String> = (0..500).map(|_| people.person(&mut rng).name).collect();
        assert_eq!(names.len(), 500);
        assert!(GIVEN.iter().all(|(g, p)| !g.is_empty() && p.is_ascii()));
    }

    #[test]
    fn phones_have_the_right_shape() {
        let mut rng = Rng::new(3);
        let l = landline("沈阳", &mut rng);
        assert_eq!(l.len(), "024-".len() + 8);
        let l = landline("盘锦", &mut rng);
        assert_eq!(l.len(), "0427-".len() + 7);
        let m = mobile(&mut rng);
        assert!(m.len() == 11 && m.starts_with('1') && m.bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn emails_are_unique() {
        let mut people = People::default();
        assert_eq!(people.email("wangwei", "neu.edu.cn"), "wangwei@neu.edu.cn");
        assert_eq!(people.email("wangwei", "neu.edu.cn"), "wangwei2@neu.edu.cn");
    }
}
