"""Facts checked against the report by hand. Every expected value below was written out from
the report's text (line numbers given), not produced by the code: measures by their Chinese
name as printed, zones by their short Chinese name, agencies by any name form the report uses.
"""

from __future__ import annotations

import re

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from ftz_kg.vocab import FTZ

BASE = "https://w3id.org/ftz-kg/"


def by_label(graph, text: str, cls=None) -> URIRef:
    """The one entity whose preferred or alternative label is `text`."""
    found = {s for p in (SKOS.prefLabel, SKOS.altLabel) for s in graph.subjects(p, Literal(text, lang="zh"))}
    found |= {s for p in (SKOS.prefLabel, SKOS.altLabel) for s in graph.subjects(p, Literal(text, lang="en"))}
    if cls is not None:
        found = {s for s in found if _is_a(graph, s, cls)}
    assert len(found) == 1, (text, found)
    return found.pop()


def _is_a(graph, node, cls) -> bool:
    return any(cls in set(graph.transitive_objects(t, RDFS.subClassOf)) for t in graph.objects(node, RDF.type))


def zone_short_names(graph, node) -> set[str]:
    names = set()
    for zone in graph.objects(node, FTZ.originatesIn):
        names |= {str(l) for l in graph.objects(zone, SKOS.altLabel) if l.language == "zh"}
    return names


def zh(graph, node) -> str:
    return next(str(l) for l in graph.objects(node, SKOS.prefLabel) if l.language == "zh")


def cited_rows(graph, node) -> set[str]:
    return {str(s)[len(BASE + "source/"):] for s in graph.objects(node, FTZ.source)}


# (table, 序号, name as printed in 部分创新举措表 N, zone in its 来源 column)
PART2_ROWS = [
    (1, 1, "出版物发行业务许可与网络发行备案联办制度", "辽宁自贸试验区"),        # lines 1850-1852, 1864
    (1, 2, "企业“套餐式”注销服务模式", "四川自贸试验区"),                        # 1846-1847
    (1, 3, "市场准入“一业一证”行业综合许可制度", "上海自贸试验区"),              # 1848-1849
    (1, 4, "电力工程审批绿色通道", "福建自贸试验区"),                            # 1853-1854
    (1, 6, "证照“一口受理、并联办理”审批服务模式", "天津自贸试验区"),            # 1880-1881
    (1, 7, "基于区块链技术的建设资金管理新模式", "河北自贸试验区"),              # 1874-1875
    (1, 9, "企业“跨域”登记注册服务新模式", "黑龙江自贸试验区"),                  # 1891-1892
    (1, 12, "不动产登记业务便民模式", "广东自贸试验区"),                          # 1893
    (1, 14, "无证明自贸试验区", "广东自贸试验区"),                                # 1899-1900
    (1, 18, "陆路单证标准化体系", "重庆自贸试验区"),                              # 1901
    (2, 1, "空铁联运一单制货物运输模式", "四川自贸试验区"),                      # 2298-2299
    (2, 3, "西部陆海新通道铁海联运“一单制”创新", "重庆自贸试验区"),              # 2296-2297
    (2, 11, "“融资租赁+汽车出口”业务创新", "天津自贸试验区"),                     # 2323
    (2, 13, "边民互市贸易进口商品落地加工新模式", "黑龙江自贸试验区"),          # 2317-2318
    (2, 17, "跨境电商销售医药产品试点", "北京自贸试验区"),                        # 2329-2331
    (2, 18, "保税原油混兑调和业务新模式", "山东自贸试验区"),                      # 2327
    (3, 1, "银行机构“双随机”抽样系统", "山东自贸试验区"),                        # 2616-2617
    (3, 7, "资本市场金融科技创新试点", "北京自贸试验区"),                        # 2632-2633
    (3, 9, "跨境金融服务“白名单”制度", "安徽自贸试验区"),                        # 2699-2700
    (4, 6, "“一码集成”涉企检查新模式", "湖南自贸试验区"),                        # 2961-2962 (a figure says 海南)
    (4, 11, "一体化大数据社会治理体系", "海南自贸试验区"),                        # 2969-2970
    (5, 1, "细胞药物研发应用再提速模式", "山东自贸试验区"),                      # 3295-3296
    (5, 7, "能源类特色供应链合作平台", "陕西自贸试验区"),                        # 3301-3302
    (6, 6, "“五轮驱动”破解民营经济职称评审瓶颈", "河南自贸试验区"),              # 3630-3631
    (6, 9, "知识产权纠纷调解新模式", "重庆自贸试验区"),                          # 3632-3633
    (7, 1, "“沈哈红运模式”", "辽宁自贸试验区"),                                  # 3903-3905, quoted as printed
    (7, 6, "创新中俄跨境集群建设", "黑龙江自贸试验区"),                          # 3914-3915
    (7, 8, "中欧班列运费分段结算估价管理改革", "四川自贸试验区"),                # 3912-3913
]


@pytest.mark.parametrize("table, row, name, zone", PART2_ROWS, ids=[f"table{t}-row{r}" for t, r, _, _ in PART2_ROWS])
def test_part2_table_row(graph, table, row, name, zone):
    measure = by_label(graph, name, FTZ.InnovationMeasure)
    assert zone in zone_short_names(graph, measure)
    assert f"part2-table{table}/row-{row}" in cited_rows(graph, measure)


# (annex table, 序号, item, responsible units as printed, scope as printed) — Annex ①, lines 5122-5255
ANNEX_ITEMS = [
    (1, 3, "电力工程审批绿色通道", ["公安部", "自然资源部", "住房城乡建设部", "国家林草局"], "全国"),
    (1, 10, "建设项目水、电、气、暖现场一次联办模式", ["住房和城乡建设部"], "自贸试验区"),
    (1, 11, "股权转让登记远程确认服务", ["市场监管总局"], "自贸试验区"),
    (2, 8, "野生动植物进出口行政许可审批事项改革", ["国家林草局"], "自贸试验区"),
    (2, 9, "二手车出口业务新模式", ["商务部", "公安部", "海关总署"], "二手车出口业务试点地区"),
    (2, 10, "保税航煤出口质量流量计计量新模式", ["海关总署"], "保税监管场所"),
    (2, 11, "空铁联运一单制货物运输模式", ["交通运输部", "中国民航局", "中国国家铁路集团有限公司"], "成都铁路局局管范围内"),
    (3, 4, "知识产权证券化", ["国家知识产权局", "证监会", "银保监会", "国家版权局"], "全国"),
    (4, 1, "“委托公证+政府询价+异地处置”财产执行云处置模式", ["最高人民法院"], "全国"),
    (5, 2, "直接采认台湾地区部分技能人员职业资格", ["人力资源社会保障部", "中央台办"], "全国"),
    (5, 3, "航空维修产业职称评审", ["人力资源和社会保障部"], "全国"),
    (5, 5, "出入境人员综合服务“一站式”平台", ["海关总署", "国家移民局", "外交部", "科技部", "国务院港澳办"], "全国"),
]


@pytest.mark.parametrize("table, row, name, units, scope", ANNEX_ITEMS,
                         ids=[f"annex-table{t}-row{r}" for t, r, *_ in ANNEX_ITEMS])
def test_annex_experience(graph, table, row, name, units, scope):
    experience = by_label(graph, name, FTZ.ReplicableExperience)
    assert f"annex1-table{table}/row-{row}" in cited_rows(graph, experience)
    assert set(graph.objects(experience, FTZ.responsibleUnit)) == {by_label(graph, u, FTZ.ResponsibleUnit) for u in units}
    assert zh(graph, graph.value(experience, FTZ.rolloutScope)) == scope
    assert graph.value(graph.value(experience, FTZ.promotedInBatch), FTZ.documentNumber).value == "国函〔2020〕96号"


@pytest.mark.parametrize("full, short", [
    ("人力资源和社会保障部", "人力资源社会保障部"),   # annex table 5, rows 2 and 3
    ("国家林业和草原局", "国家林草局"),               # annex tables 1 and 2
    ("中国银行保险监督管理委员会", "银保监会"),       # annex tables 2-4
    ("住房和城乡建设部", "住房城乡建设部"),           # annex table 1, rows 3 and 10
    ("国家市场监督管理总局", "市场监管总局"),         # annex table 1
    ("中国民用航空局", "中国民航局"),                 # annex tables 2 and 4
])
def test_agency_name_forms_find_one_agency(graph, full, short):
    assert by_label(graph, full, FTZ.ResponsibleUnit) == by_label(graph, short, FTZ.ResponsibleUnit)


@pytest.mark.parametrize("subarea, zone", [
    ("南京自贸片区", "江苏自贸试验区"),      # line 1225 "南京自贸片区"
    ("南京片区", "江苏自贸试验区"),
    ("东疆片区", "天津自贸试验区"),          # line 289 "天津自贸试验区东疆片区"
    ("临港新片区", "上海自贸试验区"),
    ("营口片区", "辽宁自贸试验区"),
    ("绥芬河片区", "黑龙江自贸试验区"),
    ("崇左片区", "广西自贸试验区"),
    ("杨凌示范区片区", "陕西自贸试验区"),
])
def test_subarea_is_part_of_its_zone(graph, subarea, zone):
    node = by_label(graph, subarea, FTZ.SubArea)
    [parent] = list(graph.objects(node, FTZ.partOfZone))
    assert zone in {str(l) for l in graph.objects(parent, SKOS.altLabel)}
    assert node in set(graph.objects(parent, FTZ.hasSubArea))


def test_parallel_processing_approach_has_the_reports_points(graph):
    # Part 2 §一(一) and table 1 创新点 column (lines 1469-1644, 1846-1881)
    approach = by_label(graph, "推动并联化", FTZ.InnovationApproach)
    points = {zh(graph, p) for p in graph.subjects(SKOS.broader, approach)}
    assert "扩大并联审批的部门范围" in points
    assert any("许可业务与备案业务" in p for p in points)
    assert any("营业执照业务与许可证业务" in p for p in points)
    domain = graph.value(approach, SKOS.broader)
    assert zh(graph, domain) == "投资自由化便利化"


def test_domains_and_approach_counts(graph):
    # Part 2 headings: seven domains; 4/4/4/4/5/4/3 approaches (lines 1463-3924)
    expected = {"投资自由化便利化": 4, "贸易便利化": 4, "金融开放创新": 4, "事中事后监管": 4,
                "产业链开放发展": 5, "要素资源保障服务": 4, "差别化任务探索": 3}
    domains = set(graph.subjects(RDF.type, FTZ.InnovationDomain))
    assert {zh(graph, d): len(set(graph.subjects(SKOS.broader, d))) for d in domains} == expected


@pytest.mark.parametrize("box, zone", [
    ("3-1", "江苏自贸试验区"),      # lines 4080-4094, 南京片区 medical insurance
    ("3-10", "广东自贸试验区"),     # lines 4444-4457, transport links with Hong Kong and Macao
    ("3-16", "辽宁自贸试验区"),     # lines 4640-4653, 营口片区 labour sharing pool
    ("3-17", "海南自贸试验区"),     # lines 4666-4680, offshore-island duty-free shopping
    ("3-24", "陕西自贸试验区"),     # lines 5010-5032, 中俄丝路创新园
])
def test_case_box_zone(graph, box, zone):
    source = URIRef(f"{BASE}source/part3-box{box}")
    measures = set(graph.subjects(FTZ.source, source))
    assert measures
    assert any(zone in zone_short_names(graph, m) for m in measures)


def test_case_box_3_16_names_yingkou(graph):
    [measure] = [m for m in graph.subjects(FTZ.source, URIRef(f"{BASE}source/part3-box3-16"))
                 if (m, RDF.type, FTZ.InnovationMeasure) in graph]
    assert by_label(graph, "营口片区", FTZ.SubArea) in set(graph.objects(measure, FTZ.originatesInSubArea))


@pytest.mark.parametrize("zone, batch, year", [
    ("北京自贸试验区", 6, "2020"), ("湖南自贸试验区", 6, "2020"), ("安徽自贸试验区", 6, "2020"),  # line 178-182
])
def test_sixth_batch_zones(graph, zone, batch, year):
    node = by_label(graph, zone, FTZ.PilotFreeTradeZone)
    b = graph.value(node, FTZ.establishedInBatch)
    assert int(graph.value(b, FTZ.ordinal)) == batch and str(graph.value(b, FTZ.year)) == year


def test_zhejiang_expanded_in_2020(graph):
    node = by_label(graph, "浙江自贸试验区", FTZ.PilotFreeTradeZone)     # line 181 扩展浙江自贸试验区区域
    assert str(graph.value(node, FTZ.expansionYear)) == "2020"


def test_one_guarantee_many_uses_zones_follow_part1(graph):
    # Part 1 §六(一) line 1310: 天津、湖北、重庆自贸试验区创新“货物贸易‘一保多用’管理模式”
    measure = by_label(graph, "货物贸易“一保多用”管理模式", FTZ.ReplicableExperience)
    assert zone_short_names(graph, measure) >= {"天津自贸试验区", "湖北自贸试验区", "重庆自贸试验区"}
    # table 2 credits only Chongqing: a conflict about the measure's zones says so
    assert any(graph.value(c, FTZ.conflictProperty) == FTZ.originatesIn
               for c in graph.subjects(FTZ.conflictAbout, measure))


def test_part2_row_and_annex_item_are_one_node(graph):
    # 企业“套餐式”注销服务模式 is table 1 row 2 and annex table 1 item 8
    measure = by_label(graph, "企业“套餐式”注销服务模式")
    assert {"part2-table1/row-2", "annex1-table1/row-8"} <= cited_rows(graph, measure)
    assert (measure, RDF.type, FTZ.ReplicableExperience) in graph


def test_every_entity_has_one_label_per_language_and_english_is_translated(graph):
    cjk = re.compile(r"[\u3400-\u9fff]")
    subjects = {s for s in graph.subjects(SKOS.prefLabel, None) if str(s).startswith(BASE)}
    assert len(subjects) > 500
    for s in subjects:
        labels = list(graph.objects(s, SKOS.prefLabel))
        assert sorted(l.language for l in labels) == ["en", "zh"], s
        en = next(str(l) for l in labels if l.language == "en")
        assert not cjk.search(en), (s, en)
        assert cjk.search(next(str(l) for l in labels if l.language == "zh")), s


PINYIN = re.compile(r"^(zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|ai|ei|ao|ou|an|en|"
                    r"er|ia|ie|iu|in|ua|uo|ui|un|a|o|e|i|u|v)$")


def _pinyin_word(word: str) -> bool:
    """True when the word splits entirely into pinyin syllables (Shenhahong, Yun, Moshi)."""
    word = word.lower()
    if not word.isalpha():
        return False
    ends = {0}
    for i in range(1, len(word) + 1):
        if any(j in ends and PINYIN.match(word[j:i]) for j in range(max(0, i - 6), i)):
            ends.add(i)
    return len(word) in ends


def test_no_english_label_is_an_untranslated_transliteration(graph):
    measures_and_concepts = {s for s in graph.subjects(RDF.type, None)
                             if _is_a(graph, s, FTZ.InnovationMeasure) or _is_a(graph, s, SKOS.Concept)
                             or _is_a(graph, s, FTZ.ResponsibleUnit)}
    suspicious = []
    for s in measures_and_concepts:
        en = next(str(l) for l in graph.objects(s, SKOS.prefLabel) if l.language == "en")
        words = re.findall(r"[A-Za-z]+", en)
        if words and all(_pinyin_word(w) for w in words):
            suspicious.append(en)
    assert suspicious == []
