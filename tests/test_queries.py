"""Every canned query, answered exactly. Expected answers are written out from the report
(tables 部分创新举措表 1-7, Annex ① 附表 1-5, Part 1 §五, Part 3 case boxes; line numbers given),
never produced by running the query."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from ftz_kg.query.binding import ParameterError, bind
from ftz_kg.query.catalogue import Catalogue
from ftz_kg.query.store import AskResult, GraphResult, OxigraphEngine, RdflibEngine, SelectResult

BASE = "https://w3id.org/ftz-kg/"
ZH = lambda short: f"中国（{short}）自由贸易试验区"  # noqa: E731  the official zone name


@pytest.fixture(scope="module")
def catalogue():
    return Catalogue.load()


@pytest.fixture(scope="module")
def engine(graph):
    return OxigraphEngine(graph)


def run(engine, catalogue, name, **params):
    return engine.query(bind(catalogue.get(name), {k: str(v) for k, v in params.items()}, engine))


def column(result: SelectResult, name: str) -> list[str]:
    i = result.variables.index(name)
    return ["" if row[i] is None else str(row[i]) for row in result.rows]


def records(result: SelectResult, *names: str) -> list[tuple]:
    return list(zip(*(column(result, n) for n in names)))


# ---------------------------------------------------------------- parallel approval and taxonomy

def test_parallel_approval(engine, catalogue):
    # 部分创新举措表 1 rows 1-6 (lines 1846-1881), all under 推动并联化 and its points (lines 1469-1644)
    result = run(engine, catalogue, "parallel-approval")
    assert records(result, "row", "measure_label", "zone_label") == [
        ("1", "出版物发行业务许可与网络发行备案联办制度", ZH("辽宁")),
        ("2", "企业“套餐式”注销服务模式", ZH("四川")),
        ("3", "市场准入“一业一证”行业综合许可制度", ZH("上海")),
        ("4", "电力工程审批绿色通道", ZH("福建")),
        ("5", "建设项目水、电、气、暖现场一次联办模式", ZH("河南")),
        ("6", "证照“一口受理、并联办理”审批服务模式", ZH("天津")),
    ]
    assert column(result, "point_label")[3:] == ["扩大并联审批的部门范围"] * 3


ONLINE = {  # 部分创新举措表 1 rows 7-12, 推动在线化 (lines 1645-1737, 1874-1893)
    ("基于区块链技术的建设资金管理新模式", ZH("河北")),
    ("股权转让登记远程确认服务", ZH("湖北")),
    ("企业“跨域”登记注册服务新模式", ZH("黑龙江")),
    ("企业设立智能登记系统", ZH("山东")),
    ("竣工图电子化管理模式", ZH("浙江")),
    ("不动产登记业务便民模式", ZH("广东")),
}


@pytest.mark.parametrize("approach", ["推动在线化", "Online processing", f"{BASE}innovation/online-processing"])
def test_measures_by_approach_any_name_form(engine, catalogue, approach):
    result = run(engine, catalogue, "measures-by-approach", approach=approach)
    assert set(records(result, "measure_label", "zone_label")) == ONLINE


def test_measures_by_approach_domain_reaches_all_levels(engine, catalogue):
    # the ten rows of 部分创新举措表 3 (lines 2610-2633, 2697-2709)
    result = run(engine, catalogue, "measures-by-approach", approach="金融开放创新")
    assert set(column(result, "measure_label")) == {
        "银行机构“双随机”抽样系统", "自贸试验区银行业创新监管互动机制", "保理公司接入央行企业征信系统",
        "境外机构境内外汇账户结汇业务", "分布式共享模式实现“银政互通”", "绿色债务融资工具创新",
        "资本市场金融科技创新试点", "油品贸易跨境人民币结算便利化试点", "跨境金融服务“白名单”制度",
        "人民币对“一带一路”小币种差额交割及汇率避险交易业务",
    }


def test_taxonomy_tree_of_differentiated_tasks(engine, catalogue):
    # Part 2 §七 (lines 3656-3924): three approaches, each with its 一是/二是/三是 points
    result = run(engine, catalogue, "taxonomy-tree", domain="差别化任务探索")
    assert set(records(result, "approach_label", "point_label", "measures")) == {
        ("探索沿边开放发展新路径", "探索沿边跨境金融创新", "1"),
        ("探索沿边开放发展新路径", "探索沿边跨境商事服务创新", "1"),
        ("探索沿边开放发展新路径", "探索沿边跨境产业发展创新", "1"),
        ("探索深化国资国企改革", "探索混合所有制改革新路径", "1"),
        ("探索深化国资国企改革", "探索事业单位改革新机制", "1"),
        ("探索深化国资国企改革", "探索国有企业改革新模式", "1"),
        ("探索陆上贸易新规则", "拓展铁路提单功能", "1"),
        ("探索陆上贸易新规则", "完善铁路运输运费管理机制", "1"),
    }


def test_table_rows_per_domain(engine, catalogue):
    # the highest 序号 of each 部分创新举措表 1-7
    result = run(engine, catalogue, "table-rows-per-domain")
    assert records(result, "domain_label", "rows") == [
        ("投资自由化便利化", "18"), ("贸易便利化", "18"), ("金融开放创新", "10"), ("事中事后监管", "11"),
        ("产业链开放发展", "8"), ("要素资源保障服务", "11"), ("差别化任务探索", "8"),
    ]


def test_experience_domains(engine, catalogue):
    result = run(engine, catalogue, "experience-domains")
    assert set(records(result, "domain_label", "innovation_domain_label")) == {
        ("投资领域", "投资自由化便利化"), ("贸易领域", "贸易便利化"), ("金融开放创新领域", "金融开放创新"),
        ("事中事后监管领域", "事中事后监管"), ("人力资源领域", ""),
    }


# ---------------------------------------------------------------- zones and sub-areas

def test_measures_by_zone_grouped_by_domain(engine, catalogue):
    # Hunan in Part 2: table 4 row 6 (长沙片区, lines 2787, 2961), table 5 rows 3 and 5 (长沙片区, lines 3114-3126,
    # 3157-3160)
    result = run(engine, catalogue, "measures-by-zone", zone="湖南自贸试验区", part="part2")
    got = records(result, "domain_label", "measure_label", "subarea_label")
    assert sorted(got) == sorted([
        ("事中事后监管", "“一码集成”涉企检查新模式", "长沙片区"),
        ("产业链开放发展", "创新工程机械二手设备出口新模式", "长沙片区"),
        ("产业链开放发展", "“三位一体”协同推进机制", "长沙片区"),
    ])
    domains = column(result, "domain_label")
    assert domains == sorted(domains), "grouped by domain"
    # Part 1 §三 (line 868): 湖南自贸试验区长沙片区 … 探索开展知识产权保护数字化确权新模式, in no table
    part1 = records(run(engine, catalogue, "measures-by-zone", zone="湖南自贸试验区", part="part1"),
                    "domain_label", "measure_label", "subarea_label")
    assert ("", "知识产权保护数字化确权新模式", "长沙片区") in part1


def test_measures_by_zone_in_english(engine, catalogue):
    # Yunnan in Part 2: only table 7 row 5, by the 昆明片区 (lines 3729-3733, 3915); Part 1 adds the linkage
    # innovation zones that 天津、浙江、四川、重庆、陕西、江苏、云南 set up (line 1454)
    result = run(engine, catalogue, "measures-by-zone", zone="Yunnan", lang="en", part="part2")
    assert records(result, "domain_label", "measure", "subarea_label") == [
        ("Exploring differentiated tasks", f"{BASE}measure/one-address-multiple-licences-mutual-recognition",
         "Kunming Area")]
    assert "one address" in column(result, "measure_label")[0]
    everywhere = column(run(engine, catalogue, "measures-by-zone", zone="Yunnan", lang="en"), "measure")
    assert f"{BASE}measure/ftz-linkage-innovation-zones" in everywhere and len(everywhere) == 2


def test_subareas_of_zone(engine, catalogue):
    # the State Council's plan for Hebei: four sub-areas
    result = run(engine, catalogue, "subareas-of-zone", zone="河北自贸试验区")
    assert set(column(result, "subarea_label")) == {"雄安片区", "正定片区", "曹妃甸片区", "大兴机场片区"}


def test_subareas_of_zone_with_report_names(engine, catalogue):
    result = run(engine, catalogue, "subareas-of-zone", zone="jiangsu")
    names = dict(records(result, "subarea_label", "other_names"))
    assert set(names) == {"南京片区", "苏州片区", "连云港片区"}
    assert "南京自贸片区" in names["南京片区"]          # line 1225


@pytest.mark.parametrize("subarea, expected", [
    ("大连片区", {"检验检测单位“事转企”改革新路径"}),                                  # line 3820
    ("营口片区", {"“沈哈红运模式”", "辽宁自贸试验区搭建季节性、临时性劳动力共享资源池"}),  # lines 3769, 4642
])
def test_measures_by_subarea(engine, catalogue, subarea, expected):
    assert set(column(run(engine, catalogue, "measures-by-subarea", subarea=subarea), "measure_label")) == expected


ZONES_BY_BATCH = [
    ("1", "2013", "上海"), ("2", "2015", "天津"), ("2", "2015", "广东"), ("2", "2015", "福建"),
    ("3", "2017", "辽宁"), ("3", "2017", "浙江"), ("3", "2017", "河南"), ("3", "2017", "湖北"),
    ("3", "2017", "重庆"), ("3", "2017", "四川"), ("3", "2017", "陕西"), ("4", "2018", "海南"),
    ("5", "2019", "山东"), ("5", "2019", "江苏"), ("5", "2019", "广西"), ("5", "2019", "河北"),
    ("5", "2019", "云南"), ("5", "2019", "黑龙江"), ("6", "2020", "北京"), ("6", "2020", "湖南"),
    ("6", "2020", "安徽"),
]


def test_zones_by_batch(engine, catalogue):
    # batch 6 and the Zhejiang expansion: Part 1 §一(一) line 181; batches 1-5: the State Council's plans
    result = run(engine, catalogue, "zones-by-batch")
    got = records(result, "batch_number", "year", "zone_label")
    assert sorted(got) == sorted((b, y, ZH(z)) for b, y, z in ZONES_BY_BATCH)
    assert [b for b, _, _ in got] == sorted(b for b, _, _ in got)
    assert dict(records(result, "zone_label", "expanded"))[ZH("浙江")] == "2020"
    assert [z for z, e in records(result, "zone_label", "expanded") if e] == [ZH("浙江")]


def test_zone_profile(engine, catalogue):
    result = run(engine, catalogue, "zone-profile", zone="Hunan", lang="en")
    [row] = records(result, "zone_label", "province_label", "batch_number", "year", "subareas", "measures",
                    "experiences")
    # measures: the three of Part 2 and 知识产权保护数字化确权新模式 of Part 1 (line 868)
    assert row == ("China (Hunan) Pilot Free Trade Zone", "Hunan Province", "6", "2020", "3", "4", "0")


def test_provinces(engine, catalogue):
    result = run(engine, catalogue, "provinces")
    pairs = dict(records(result, "province_label", "zone_label"))
    assert len(pairs) == 21
    assert pairs["广西壮族自治区"] == ZH("广西") and pairs["重庆市"] == ZH("重庆") and pairs["四川省"] == ZH("四川")


# ---------------------------------------------------------------- experiences and agencies (Annex ①)

CUSTOMS = [  # 海关总署 in 附表2 rows 2-6, 9, 10; 附表4 row 3; 附表5 row 5 (lines 5177-5255)
    ("2", "飞机行业内加工贸易保税货物便捷调拨监管模式"), ("3", "跨境电商零售进口退货中心仓模式"),
    ("4", "进出口商品智慧申报导航服务"), ("5", "冰鲜水产品两段准入监管模式"), ("6", "货物贸易“一保多用”管理模式"),
    ("9", "二手车出口业务新模式"), ("10", "保税航煤出口质量流量计计量新模式"), ("3", "海关公证电子送达系统"),
    ("5", "出入境人员综合服务“一站式”平台"),
]


@pytest.mark.parametrize("agency", ["海关总署", "General Administration of Customs", "GACC", "gacc"])
def test_experiences_by_agency(engine, catalogue, agency):
    result = run(engine, catalogue, "experiences-by-agency", agency=agency)
    assert sorted(records(result, "row", "experience_label")) == sorted(CUSTOMS)
    assert set(column(result, "scope_label")) == {"全国", "保税监管场所", "二手车出口业务试点地区"}


@pytest.mark.parametrize("agency", ["人力资源社会保障部", "人力资源和社会保障部"])
def test_experiences_by_agency_short_and_full_name(engine, catalogue, agency):
    # 附表5 row 2 writes 人力资源社会保障部, row 3 人力资源和社会保障部 (lines 5218-5221)
    result = run(engine, catalogue, "experiences-by-agency", agency=agency)
    assert set(column(result, "experience_label")) == {"直接采认台湾地区部分技能人员职业资格", "航空维修产业职称评审"}


def test_specific_area_rollouts(engine, catalogue):
    # 附表1 rows 10-11, 附表2 rows 8-11 (lines 5147-5151, 5190-5215); Part 1 §六(一): 6 in specific areas
    result = run(engine, catalogue, "specific-area-rollouts")
    assert set(records(result, "experience_label", "scope_label")) == {
        ("建设项目水、电、气、暖现场一次联办模式", "自贸试验区"),
        ("股权转让登记远程确认服务", "自贸试验区"),
        ("野生动植物进出口行政许可审批事项改革", "自贸试验区"),
        ("二手车出口业务新模式", "二手车出口业务试点地区"),
        ("保税航煤出口质量流量计计量新模式", "保税监管场所"),
        ("空铁联运一单制货物运输模式", "成都铁路局局管范围内"),
    }
    agencies = dict(records(result, "experience_label", "agencies"))
    assert set(agencies["空铁联运一单制货物运输模式"].split("; ")) == {"交通运输部", "中国民用航空局",
                                                                   "中国国家铁路集团有限公司"}


AGENCY_COUNTS = {  # counted by hand over 附表1-5
    "海关总署": 9, "中国银行保险监督管理委员会": 5, "国家市场监督管理总局": 4, "商务部": 4, "自然资源部": 4,
    "中国人民银行": 3, "交通运输部": 3, "公安部": 2, "住房和城乡建设部": 2, "国家林业和草原局": 2,
    "国家移民管理局": 2, "中国民用航空局": 2, "司法部": 2, "外交部": 2, "人力资源和社会保障部": 2,
    "中共中央宣传部": 1, "工业和信息化部": 1, "国家税务总局": 1, "国家药品监督管理局": 1,
    "中国国家铁路集团有限公司": 1, "国家知识产权局": 1, "中国证券监督管理委员会": 1, "国家版权局": 1,
    "最高人民法院": 1, "中共中央台湾工作办公室": 1, "科学技术部": 1, "国务院港澳事务办公室": 1,
}


def test_agencies_ranked(engine, catalogue):
    result = run(engine, catalogue, "agencies-ranked")
    got = [(label, int(n)) for label, n in records(result, "agency_label", "experiences")]
    assert dict(got) == AGENCY_COUNTS
    assert [n for _, n in got] == sorted((n for _, n in got), reverse=True)
    assert got[0] == ("海关总署", 9)


def test_joint_experiences(engine, catalogue):
    result = run(engine, catalogue, "joint-experiences")
    assert {(name, int(n)) for name, n in records(result, "experience_label", "units")} == {
        ("绿色船舶修理企业规范管理", 2), ("电力工程审批绿色通道", 4), ("“融资租赁+汽车出口”业务创新", 2),
        ("飞机行业内加工贸易保税货物便捷调拨监管模式", 2), ("跨境电商零售进口退货中心仓模式", 2),
        ("二手车出口业务新模式", 3), ("空铁联运一单制货物运输模式", 3), ("保理公司接入央行企业征信系统", 2),
        ("分布式共享模式实现“银政互通”", 3), ("知识产权证券化", 4), ("海关公证电子送达系统", 2),
        ("直接采认台湾地区部分技能人员职业资格", 2), ("出入境人员综合服务“一站式”平台", 5),
    }
    assert column(result, "units")[0] == "5"


def test_experiences_per_domain(engine, catalogue):
    # Part 1 §六(一) lines 1266-1270: 11/11/4/6/5; 31 nationwide, 6 in specific areas
    result = run(engine, catalogue, "experiences-per-domain")
    got = {d: (int(n), int(a), int(s)) for d, n, a, s in
           records(result, "domain_label", "experiences", "nationwide", "specific_areas")}
    assert got == {"投资领域": (11, 9, 2), "贸易领域": (11, 7, 4), "金融开放创新领域": (4, 4, 0),
                   "事中事后监管领域": (6, 6, 0), "人力资源领域": (5, 5, 0)}


@pytest.mark.parametrize("scope, expected", [
    ("保税监管场所", {"保税航煤出口质量流量计计量新模式"}),
    ("自贸试验区", {"建设项目水、电、气、暖现场一次联办模式", "股权转让登记远程确认服务", "野生动植物进出口行政许可审批事项改革"}),
])
def test_experiences_by_scope(engine, catalogue, scope, expected):
    assert set(column(run(engine, catalogue, "experiences-by-scope", scope=scope), "experience_label")) == expected


def test_experiences_by_scope_broader_scope_includes_narrower(engine, catalogue):
    assert len(run(engine, catalogue, "experiences-by-scope", scope="特定区域").rows) == 6
    assert len(run(engine, catalogue, "experiences-by-scope", scope="全国").rows) == 31


def test_experience_profile(engine, catalogue):
    # 附表2 row 11 (lines 5197-5215) and Part 2 table 2 row 1 (四川, line 2298)
    result = run(engine, catalogue, "experience-profile", experience="空铁联运一单制货物运输模式")
    assert set(records(result, "batch_label", "document", "domain_label", "scope_label", "agency_label", "zones")) == {
        ("第六批改革试点经验", "国函〔2020〕96号", "贸易领域", "成都铁路局局管范围内", agency, ZH("四川"))
        for agency in ("交通运输部", "中国民用航空局", "中国国家铁路集团有限公司")
    }


def test_part2_experiences(engine, catalogue):
    # Part 2 table rows that Annex ① lists as experiences (tables 1-4 and 6; none in 5 and 7)
    result = run(engine, catalogue, "part2-experiences")
    got = {(t.removeprefix("part2-table"), int(r), a.removeprefix("annex1-table"), int(b))
           for t, r, a, b in records(result, "part2_table", "part2_row", "annex_table", "annex_row")}
    assert got == {
        ("1", 1, "1", 1), ("1", 2, "1", 8), ("1", 4, "1", 3), ("1", 5, "1", 10), ("1", 6, "1", 7),
        ("1", 8, "1", 11), ("1", 12, "1", 5), ("1", 17, "1", 2),
        ("2", 1, "2", 11), ("2", 4, "2", 2), ("2", 6, "2", 6), ("2", 7, "2", 5), ("2", 8, "2", 10),
        ("2", 9, "2", 4), ("2", 10, "2", 7), ("2", 11, "2", 1), ("2", 14, "2", 9), ("2", 15, "2", 3),
        ("3", 3, "3", 1), ("3", 5, "3", 2), ("3", 6, "3", 3),
        ("4", 2, "4", 3), ("4", 4, "4", 2), ("4", 5, "4", 4), ("4", 7, "4", 5), ("4", 10, "4", 6),
        ("6", 1, "1", 4), ("6", 3, "5", 1), ("6", 4, "5", 5), ("6", 5, "5", 2), ("6", 7, "3", 4),
    }


def test_experiences_without_zone(engine, catalogue):
    # named only in Annex ① (lines 5143, 5145, 5190, 5242, 5221, 5225)
    result = run(engine, catalogue, "experiences-without-zone")
    assert set(column(result, "experience_label")) == {
        "增值税小规模纳税人智能辅助申报服务", "医疗器械注册人委托生产模式", "野生动植物进出口行政许可审批事项改革",
        "“委托公证+政府询价+异地处置”财产执行云处置模式", "航空维修产业职称评审", "船员远程计算机终端考试",
    }


def test_experiences_by_origin_zone(engine, catalogue):
    # zones of the annex items, from the Part 2 tables and Part 1 §六(一) (一保多用: 天津、湖北、重庆)
    result = run(engine, catalogue, "experiences-by-origin-zone")
    got = {z: int(n) for z, n in records(result, "zone_label", "experiences")}
    assert got == {ZH("天津"): 8, ZH("辽宁"): 5, ZH("四川"): 4, ZH("福建"): 3, ZH("广东"): 3, ZH("海南"): 3,
                   ZH("河南"): 2, ZH("湖北"): 2, ZH("重庆"): 1, ZH("陕西"): 1, ZH("浙江"): 1}


def test_agency_names(engine, catalogue):
    result = run(engine, catalogue, "agency-names", agency="国家林草局")
    names = set(records(result, "name", "kind", "language"))
    assert ("国家林业和草原局", "preferred", "zh") in names and ("国家林草局", "alternative", "zh") in names
    assert ("National Forestry and Grassland Administration", "preferred", "en") in names


def test_unit_types(engine, catalogue):
    result = run(engine, catalogue, "unit-types", lang="en")
    assert records(result, "type_label", "units") == [
        ("government agency", "23"), ("Party organ", "2"), ("judicial organ", "1"), ("state-owned enterprise", "1")]


def test_batches(engine, catalogue):
    result = run(engine, catalogue, "batches")
    got = set(records(result, "ordinal", "year", "document", "members"))
    assert ("6", "2020", "国函〔2020〕96号", "37") in got      # Annex ② 2020/7/7, 附件①
    assert ("6", "2020", "国发〔2020〕10号", "3") in got       # Annex ② 2020/8/30-9/21
    assert len(got) == 7


# ---------------------------------------------------------------- strategies, Part 3 cases, provenance

def test_zone_strategies(engine, catalogue):
    # what the report says of each zone as a whole (Part 1 §一(一) and §五, Part 2 §七(一)), not of one measure
    result = run(engine, catalogue, "zone-strategies")
    pairs = set(records(result, "zone_label", "strategy_label"))
    assert pairs == {
        (ZH("北京"), "京津冀协同发展"), (ZH("天津"), "京津冀协同发展"), (ZH("河北"), "京津冀协同发展"),   # 1190-1198
        (ZH("湖南"), "建设制造强国"), (ZH("湖南"), "中部地区崛起"), (ZH("湖南"), "长江经济带发展"),     # 230-234
        (ZH("湖南"), "粤港澳大湾区建设"),
        (ZH("安徽"), "长三角一体化发展"), (ZH("安徽"), "中部地区崛起"),                                # 234-247, 1241
        (ZH("浙江"), "长三角一体化发展"),                                                              # 247-249
        (ZH("海南"), "海南自由贸易港建设"),                                                            # 208-212
        (ZH("广东"), "粤港澳大湾区建设"), (ZH("广东"), "东部地区加快推进现代化"),                      # 1148, 1223
        (ZH("广东"), "深圳建设中国特色社会主义先行示范区"),                                            # 1227-1229
        (ZH("上海"), "东部地区加快推进现代化"),                                                        # 1223
        (ZH("陕西"), "西部大开发"), (ZH("四川"), "西部大开发"), (ZH("重庆"), "西部大开发"),            # 1207, 1247
        (ZH("四川"), "成渝地区双城经济圈建设"), (ZH("重庆"), "成渝地区双城经济圈建设"),                # 1249-1253
        (ZH("辽宁"), "东北振兴"), (ZH("黑龙江"), "东北振兴"),                                          # 1213
        (ZH("广西"), "沿边开放发展"), (ZH("云南"), "沿边开放发展"), (ZH("黑龙江"), "沿边开放发展"),    # 3668
    }
    counts = {(z, s): int(n) for z, s, n in records(result, "zone_label", "strategy_label", "measures")}
    assert counts[(ZH("北京"), "京津冀协同发展")] >= 1    # 1178-1185: mutual recognition of professional titles
    assert counts[(ZH("云南"), "沿边开放发展")] == 0      # no Yunnan measure is said to serve it


def test_measures_by_strategy(engine, catalogue):
    # §五(二) 四是 (lines 1178-1185): 北京、天津、河北 mutual recognition of professional titles
    result = run(engine, catalogue, "measures-by-strategy", strategy="京津冀协同发展")
    assert set(column(result, "zone_label")) == {ZH("北京"), ZH("天津"), ZH("河北")}


def test_cases_by_theme(engine, catalogue):
    # Part 3 §二(二) boxes 3-12 (Shandong) and 3-13 (Sichuan)
    result = run(engine, catalogue, "cases-by-theme", theme="降低流通成本，提升国内循环效率")
    assert records(result, "box", "zone_label") == [("3-12", ZH("山东")), ("3-13", ZH("四川"))]


def test_case_boxes(engine, catalogue):
    result = run(engine, catalogue, "case-boxes")
    boxes = {box: set(zones.split("; ")) for box, zones in records(result, "box", "zones")}
    assert list(boxes) == [f"3-{n}" for n in range(1, 26)]
    assert boxes["3-1"] == {ZH("江苏")} and boxes["3-10"] == {ZH("广东")} and boxes["3-16"] == {ZH("辽宁")}
    assert boxes["3-17"] == {ZH("海南")} and boxes["3-24"] == {ZH("陕西")} and boxes["3-13"] == {ZH("四川")}


def test_label_search_both_languages(engine, catalogue):
    zh = run(engine, catalogue, "label-search", text="并联")
    en = run(engine, catalogue, "label-search", text="parallel", lang="en")
    assert f"{BASE}innovation/parallel-processing" in column(zh, "entity")
    assert f"{BASE}measure/licence-single-window-parallel-approval" in column(zh, "entity")
    # the English labels also say "parallel" of 非平行进口汽车保税仓储 (non-parallel-import cars), line 404
    assert set(column(en, "entity")) - set(column(zh, "entity")) == {
        f"{BASE}measure/yangshan-non-parallel-import-car-bonded-storage"}


def test_where_stated(engine, catalogue):
    # 企业“套餐式”注销服务模式: Sichuan in table 1 row 2 (lines 1844-1847) and in annex table 1 item 8
    result = run(engine, catalogue, "where-stated", entity="企业“套餐式”注销服务模式")
    zones = {(place, quote) for prop, label, place, quote in records(result, "property", "value_label", "place", "quote")
             if prop == f"{BASE}def#originatesIn" and label == ZH("四川")}
    assert any(place == f"{BASE}source/part2-table1/row-2" and "四川自贸试验区" in quote for place, quote in zones)
    units = {label for prop, label in records(result, "property", "value_label") if prop == f"{BASE}def#responsibleUnit"}
    assert units == {"国家市场监督管理总局"}   # annex table 1 item 8 (5153-5154): 市场监管总局


def test_conflicting_statements(engine, catalogue):
    # Part 2 §三 figure (2460) and prose (2371) print 银行业务创新监管互动机制; table 3 row 2 (2612) 自贸试验区银行业…
    result = run(engine, catalogue, "conflicting-statements")
    values = {(followed, value) for subject, followed, value in records(result, "subject_label", "followed", "value_label")
              if subject == "自贸试验区银行业创新监管互动机制"}
    assert ("true", "自贸试验区银行业创新监管互动机制") in values
    assert ("false", "银行业务创新监管互动机制") in values


def test_measure_sources(engine, catalogue):
    result = run(engine, catalogue, "measure-sources", measure="企业“套餐式”注销服务模式")
    got = set(records(result, "source", "row"))
    assert (f"{BASE}source/part2-table1/row-2", "2") in got
    assert (f"{BASE}source/annex1-table1/row-8", "8") in got
    assert (f"{BASE}source/part1-s6-1", "") in got                      # Part 1 §六(一), line 1287
    lines = dict(records(result, "source", "first_line"))
    assert lines[f"{BASE}source/part1-s6-1"] == "1262"


def test_describe(engine, catalogue):
    result = run(engine, catalogue, "describe", iri=f"{BASE}zone/sichuan")
    assert isinstance(result, GraphResult)
    g = result.graph
    zone = URIRef(f"{BASE}zone/sichuan")
    skos = "http://www.w3.org/2004/02/skos/core#"
    assert (zone, URIRef(skos + "prefLabel"), Literal(ZH("四川"), lang="zh")) in g
    province = URIRef(f"{BASE}province/sichuan")
    assert (province, URIRef(skos + "prefLabel"), Literal("四川省", lang="zh")) in g
    measure = URIRef(f"{BASE}measure/enterprise-package-deregistration")
    assert (measure, URIRef("https://w3id.org/ftz-kg/def#originatesIn"), zone) in g
    assert (measure, URIRef(skos + "prefLabel"), Literal("企业“套餐式”注销服务模式", lang="zh")) in g


# ---------------------------------------------------------------- the catalogue as a whole

NAMED = ["parallel-approval", "measures-by-approach", "measures-by-zone", "experiences-by-agency",
         "specific-area-rollouts", "zones-by-batch", "describe"]


def test_catalogue_has_the_named_queries_and_at_least_thirty(catalogue):
    assert len(catalogue) >= 30
    for name in NAMED:
        assert catalogue.get(name)
    assert [p.name for p in catalogue.get("measures-by-approach").params if p.name != "lang"] == ["approach"]
    assert [p.name for p in catalogue.get("measures-by-zone").params if p.name != "lang"] == ["zone", "part"]
    assert [p.name for p in catalogue.get("experiences-by-agency").params if p.name != "lang"] == ["agency"]
    assert [p.name for p in catalogue.get("describe").params] == ["iri"]


# ---------------------------------------------------------------- the whole report (issue 18)
# More answers of these queries are checked in tests/test_whole_report.py.

def test_figures_documents_events_and_groups(engine, catalogue):
    # 651-655: 前五批 18 家自贸试验区实现进出口总额 4.7 万亿元; 1209: 陕西自贸试验区进出口总额达 2416.69 亿元
    trade = records(run(engine, catalogue, "compare-zones", indicator="foreign-trade-value"), "area", "value", "factor")
    assert (f"{BASE}group/first-five-batches", "4.7", "1000000000000") in trade
    assert (f"{BASE}zone/shaanxi", "2416.69", "100000000") in trade
    shaanxi = records(run(engine, catalogue, "zone-figures", zone="shaanxi"), "value", "stated_at")
    assert any(value == "2416.69" and "2416.69 亿元" in where for value, where in shaanxi)
    assert "foreign-trade-value" in " ".join(column(run(engine, catalogue, "indicators"), "indicator"))
    # 5445-5449: 国务院印发《关于做好自由贸易试验区第六批改革试点经验复制推广工作的通知》（国函〔2020〕96 号）
    chronicle = records(run(engine, catalogue, "chronicle"), "date", "documents")
    assert ("2020-07-07", "关于做好自由贸易试验区第六批改革试点经验复制推广工作的通知") in chronicle
    documents = dict(records(run(engine, catalogue, "policy-documents"), "number", "issuers"))
    assert documents["国函〔2020〕96号"] == "国务院"
    assert "batch" in column(run(engine, catalogue, "document-references", document="国函〔2020〕96号"), "kind")
    types = dict(records(run(engine, catalogue, "document-types", lang="en"), "type_label", "documents"))
    assert int(types["international agreement"]) == 4          # CPTPP, USMCA, RCEP, EPA (733-737)
    # 3668: 广西、云南、黑龙江3个自贸试验区都肩负着全面落实中央关于加快沿边开放要求的使命职责
    border = {a for a, k in records(run(engine, catalogue, "strategy-zones", strategy="沿边开放发展"), "area", "kind")
              if k == "zone"}
    assert border == {f"{BASE}zone/guangxi", f"{BASE}zone/yunnan", f"{BASE}zone/heilongjiang"}
    groups = dict(records(run(engine, catalogue, "zone-groups"), "group", "zones"))
    assert groups[f"{BASE}group/border-zones"] == "3"
    chengdu = dict(records(run(engine, catalogue, "subareas-of-zone", zone="sichuan"), "subarea_label",
                           "named_with_others_as"))
    assert chengdu == {"成都天府新区片区": "成都片区", "成都青白江铁路港片区": "成都片区", "川南临港片区": ""}   # 355


def test_every_query_has_bilingual_metadata_and_no_subquery(catalogue):
    for query in catalogue:
        assert query.summary.endswith((".", "?")) and query.summary_zh and query.description and query.tags
        assert query.text.upper().count("SELECT") <= 1, f"{query.name}: parameters do not reach into subqueries"
        lang = query.param("lang")
        if lang is not None:
            assert lang.enumerate == ("zh", "en") and lang.default == "zh"


def test_every_query_is_tested_here(catalogue):
    import inspect
    import sys
    source = inspect.getsource(sys.modules[__name__])
    untested = [q.name for q in catalogue if f'"{q.name}"' not in source]
    assert untested == []


def test_queries_cover_every_class_and_property_of_the_ontology(catalogue, ontology):
    from rdflib.namespace import OWL, RDF
    text = " ".join(q.text for q in catalogue)
    terms = [t for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
             for t in ontology.subjects(RDF.type, kind) if str(t).startswith(f"{BASE}def#")]
    # classes reached through queries that list types by rdfs:subClassOf (unit-types, batches, label-search)
    # or through the properties whose range they are
    abstract = {"Batch", "InnovationConcept", "SourceReference", "ResponsibleUnit", "Report", "ReportPart",
                "ReportSection", "ReportTable", "Annex", "ExternalSource", "GovernmentAgency", "PartyOrgan",
                "JudicialOrgan", "StateOwnedEnterprise", "EstablishmentBatch", "PromotionBatch",
                "ProvinceLevelDivision", "SubArea", "NationalStrategy", "Theme", "RolloutScope",
                # reached as places, ranks and kinds of conflict; a reading's values are its citations' values
                "Figure", "Rank", "ConflictKind", "readingValue",
                # the ranges of the figures' dimensions and attributes, an area of figures, the kinds of documents
                # (document-types lists them by rdfs:subClassOf) and of the bodies that issue them
                "Unit", "PeriodBasis", "ValueQualifier", "Nation", "Law", "StateCouncilDocument", "MinistryDocument",
                "LocalRegulation", "LocalGovernmentDocument", "Standard", "InternationalAgreement", "PublicBody",
                "Legislature", "LocalGovernment"}
    missing = [str(t).split("#")[1] for t in terms if f"ftz:{str(t).split('#')[1]}" not in text
               and str(t).split("#")[1] not in abstract]
    assert missing == []


@pytest.fixture(scope="module")
def reference(graph):
    return RdflibEngine(graph)


@pytest.mark.parametrize("name", [q.name for q in Catalogue.load()])
def test_embedded_engine_and_rdflib_give_the_same_answers(engine, reference, catalogue, name):
    """Every canned query, with its example values, answers the same on pyoxigraph and rdflib
    (order-insensitive; GROUP_CONCAT lists compared as sets, since their order is the engine's)."""
    query = catalogue.get(name)
    text = bind(query, query.example_values(), engine)
    ours, theirs = engine.query(text), reference.query(text)
    if isinstance(ours, GraphResult):
        assert set(ours.graph) == set(theirs.graph)
        return

    def text(t) -> str:
        # engines write a decimal differently (4700000000000.0 or 4700000000000): compare its value
        if isinstance(t, Literal) and t.datatype == XSD.decimal:
            return format(t.toPython().normalize(), "f")
        return ";".join(sorted(str(t).split("; ")))

    def normal(result):
        return sorted(tuple(text(t) if t is not None else "" for t in row) for row in result.rows)
    assert ours.variables == theirs.variables
    assert normal(ours) == normal(theirs)
    assert len(ours.rows) > 0


# ---------------------------------------------------------------- parameters

INJECTIONS = ['x" } UNION { ?s ?p ?o } #', "x' } #", "}", "# comment", "a\nb", "> <http://example.org/>",
              "\\u0022", '"', "<https://w3id.org/ftz-kg/zone/sichuan> } #"]


def _param_cases():
    catalogue = Catalogue.load()
    return [(q.name, p.name) for q in catalogue for p in q.params if p.name != "lang"]


@pytest.mark.parametrize("name, param", _param_cases())
@pytest.mark.parametrize("value", INJECTIONS, ids=range(len(INJECTIONS)))
def test_injection_matches_nothing(engine, catalogue, name, param, value):
    query = catalogue.get(name)
    if query.param(param).type == "integer":   # ill-typed: refused before anything runs
        with pytest.raises(ParameterError, match="expects an integer"):
            bind(query, {param: value}, engine)
        return
    if query.param(param).enumerate:           # a closed list: refused before anything runs
        others = {p.name: "x-unmatched" for p in query.params if p.name not in (param, "lang") and p.required}
        with pytest.raises(ParameterError, match=f"'{param}' must be one of"):
            bind(query, {**others, param: value}, engine)
        return
    params = {p.name: value if p.name == param else (p.default if p.enumerate else "x-unmatched")
              for p in query.params if p.name != "lang"}
    result = engine.query(bind(query, params, engine))
    if isinstance(result, GraphResult):
        assert len(result.graph) == 0
    elif name == "label-search":  # a free-text search: only labels that contain the value itself
        from rdflib.namespace import SKOS
        for row in result.rows:
            names = [str(n) for p in (SKOS.prefLabel, SKOS.altLabel) for n in engine_graph_labels(engine, row[0], p)]
            assert any(value.lower() in n.lower() for n in names), (value, row)
    else:
        assert result.rows == [], (name, param, value, result.rows[:3])


def engine_graph_labels(engine, entity, predicate):
    result = engine.query(f"SELECT ?l WHERE {{ <{entity}> <{predicate}> ?l }}")
    return [row[0] for row in result.rows]


@pytest.mark.parametrize("value", INJECTIONS + ["fr", "ZH"])
def test_enumerated_lang_rejects_anything_else(engine, catalogue, value):
    with pytest.raises(ParameterError, match="'lang' must be one of zh, en"):
        bind(catalogue.get("zones-by-batch"), {"lang": value}, engine)


def test_missing_and_unknown_parameters_are_named(engine, catalogue):
    with pytest.raises(ParameterError, match="missing parameter 'zone'"):
        bind(catalogue.get("measures-by-zone"), {}, engine)
    with pytest.raises(ParameterError, match=r"unknown parameter 'zon' for query 'measures-by-zone'; expected: lang \(string\), zone \(iri\)"):
        bind(catalogue.get("measures-by-zone"), {"zon": "Sichuan"}, engine)


def test_ask_results_are_supported(engine):
    assert engine.query("ASK { ?s a <https://w3id.org/ftz-kg/def#PilotFreeTradeZone> }") == AskResult(True)


def test_zones_in_batch(engine, catalogue):
    # the fifth batch of 2019: 山东、江苏、广西、河北、云南、黑龙江
    result = run(engine, catalogue, "zones-in-batch", number=5)
    assert set(column(result, "zone_label")) == {ZH(z) for z in ("山东", "江苏", "广西", "河北", "云南", "黑龙江")}
    assert set(column(result, "year")) == {"2019"}


@pytest.mark.parametrize("value", ["five", "5.0", "1e3", "", "5 } #"])
def test_integer_parameter_rejects_ill_typed_values(engine, catalogue, value):
    with pytest.raises(ParameterError, match="parameter 'number' expects an integer"):
        bind(catalogue.get("zones-in-batch"), {"number": value}, engine)


def test_every_query_answers_something_with_its_example_values(engine, catalogue):
    empty = []
    for query in catalogue:
        missing = [p.name for p in query.params if p.required and p.example is None]
        assert missing == [], f"{query.name}: give an example for {missing}"
        result = engine.query(bind(query, query.example_values(), engine))
        size = len(result.graph) if isinstance(result, GraphResult) else len(result.rows)
        if size == 0:
            empty.append(query.name)
    assert empty == []


# ---------------------------------------------------------------- questions of issue 20 (ftz-kg ask)

def test_measures_by_table(engine, catalogue):
    # 部分创新举措表 3（金融领域）, lines 2606-2633 and 2697-2709: 创新举措名称 / 来源 / 序号
    result = run(engine, catalogue, "measures-by-table", table=3)
    assert records(result, "row", "measure_label", "zone_label") == [
        ("1", "银行机构“双随机”抽样系统", ZH("山东")),
        ("2", "自贸试验区银行业创新监管互动机制", ZH("上海")),
        ("3", "保理公司接入央行企业征信系统", ZH("天津")),
        ("4", "境外机构境内外汇账户结汇业务", ZH("黑龙江")),
        ("5", "分布式共享模式实现“银政互通”", ZH("四川")),
        ("6", "绿色债务融资工具创新", ZH("天津")),
        ("7", "资本市场金融科技创新试点", ZH("北京")),
        ("8", "油品贸易跨境人民币结算便利化试点", ZH("浙江")),
        ("9", "跨境金融服务“白名单”制度", ZH("安徽")),
        ("10", "人民币对“一带一路”小币种差额交割及汇率避险交易业务", ZH("重庆")),
    ]


def test_measures_by_table_gives_the_zone_the_row_gives(engine, catalogue):
    # table 2 row 6 (lines 2347-2348) credits 货物贸易“一保多用”管理模式 to Chongqing alone; Part 1 (1310-1312),
    # which the graph follows, names Tianjin, Hubei and Chongqing (conflict c2)
    result = run(engine, catalogue, "measures-by-table", table=2)
    assert len(result.rows) == 18 and column(result, "row") == [str(n) for n in range(1, 19)]
    assert [z for r, z in records(result, "row", "zone") if r == "6"] == [f"{BASE}zone/chongqing"]
    assert len(run(engine, catalogue, "measures-by-table", table=1).rows) == 18       # lines 1840-1922
    assert run(engine, catalogue, "measures-by-table", table=8).rows == []


@pytest.mark.parametrize("box", ["3-23", "23"])
def test_measures_in_case_box(engine, catalogue, box):
    # 典型案例专栏3-23 (label at line 4978): Shandong's Japan-Korea cooperation (4960-4975), Heilongjiang's
    # cooperation with Russia, and the Suifenhe cases (4987-4995)
    result = run(engine, catalogue, "measures-in-case-box", box=box)
    assert set(records(result, "measure_label", "zone_label")) == {
        ("山东自贸试验区深耕对日韩合作", ZH("山东")), ("黑龙江自贸试验区提升对俄合作水平", ZH("黑龙江")),
        ("舱单归并、中俄监管互认", ZH("黑龙江")), ("境外机构境内外汇账户结汇业务", ZH("黑龙江")),
    }
    assert set(column(result, "box")) == {"3-23"}
    assert dict(records(result, "measure_label", "subareas"))["山东自贸试验区深耕对日韩合作"] == "青岛片区"


@pytest.mark.parametrize("domain", ["金融开放创新领域", "Financial opening and innovation"])
def test_experiences_by_domain(engine, catalogue, domain):
    # 附表3, lines 5160-5176: 4 项金融开放创新领域改革试点经验, all 全国
    result = run(engine, catalogue, "experiences-by-domain", domain=domain)
    assert records(result, "row", "experience_label", "scope_label") == [
        ("1", "保理公司接入央行企业征信系统", "全国"), ("2", "分布式共享模式实现“银政互通”", "全国"),
        ("3", "绿色债务融资工具创新", "全国"), ("4", "知识产权证券化", "全国"),
    ]


def test_experiences_by_domain_counts_match_the_annex_titles(engine, catalogue):
    # 附表1-5 titles: 11 投资, 11 贸易, 4 金融开放创新, 6 事中事后监管, 5 人力资源 (lines 5122-5255)
    counts = {d: len(run(engine, catalogue, "experiences-by-domain", domain=d).rows)
              for d in ("投资领域", "贸易领域", "金融开放创新领域", "事中事后监管领域", "人力资源领域")}
    assert counts == {"投资领域": 11, "贸易领域": 11, "金融开放创新领域": 4, "事中事后监管领域": 6, "人力资源领域": 5}


@pytest.mark.parametrize("agency, expected", [
    # 附表2 rows 4, 5, 6, 10 name 海关总署 alone (lines 5184-5204); rows 2, 3, 9, 附表4 row 3, 附表5 row 5 share it
    ("海关总署", {("4", "进出口商品智慧申报导航服务"), ("5", "冰鲜水产品两段准入监管模式"),
              ("6", "货物贸易“一保多用”管理模式"), ("10", "保税航煤出口质量流量计计量新模式")}),
    ("司法部", {("2", "多领域实施包容免罚清单模式")}),                      # 附表4 row 2
])
def test_experiences_by_sole_agency(engine, catalogue, agency, expected):
    result = run(engine, catalogue, "experiences-by-sole-agency", agency=agency)
    assert set(records(result, "row", "experience_label")) == expected


@pytest.mark.parametrize("agency, partner, expected", [
    # 附表2 rows 2, 3 (海关总署、商务部) and 9 (商务部、公安部、海关总署), lines 5178-5200
    ("海关总署", "商务部", {"飞机行业内加工贸易保税货物便捷调拨监管模式", "跨境电商零售进口退货中心仓模式", "二手车出口业务新模式"}),
    # 附表3 rows 1, 2 (lines 5160-5166): 人民银行 with 银保监会
    ("人民银行", "银保监会", {"保理公司接入央行企业征信系统", "分布式共享模式实现“银政互通”"}),
    ("CBIRC", "PBoC", {"保理公司接入央行企业征信系统", "分布式共享模式实现“银政互通”"}),
    # 交通运输部 with anyone: 附表1 绿色船舶修理 (with 工业和信息化部), 附表2 row 11 空铁联运 (with 民航局, 国铁集团)
    ("交通运输部", "", {"绿色船舶修理企业规范管理", "空铁联运一单制货物运输模式"}),
    ("交通运输部", "x-unmatched", set()),
])
def test_joint_experiences_of_an_agency(engine, catalogue, agency, partner, expected):
    params = {"agency": agency} if partner == "" else {"agency": agency, "partner": partner}
    result = run(engine, catalogue, "joint-experiences", **params)
    assert set(column(result, "experience_label")) == expected
    assert all(int(n) >= 2 for n in column(result, "units"))


@pytest.mark.parametrize("year, expected", [
    ("2020", {"北京", "湖南", "安徽"}),                                    # line 188
    ("2019", {z for b, _, z in ZONES_BY_BATCH if b == "5"}),
    ("2013", {"上海"}),
    ("2014", set()),
])
def test_zones_by_batch_in_one_year(engine, catalogue, year, expected):
    result = run(engine, catalogue, "zones-by-batch", year=year)
    assert set(column(result, "zone_label")) == {ZH(z) for z in expected}
    assert set(column(result, "year")) <= {year}


def test_agencies_ranked_jointly_and_alone(engine, catalogue):
    # 附表1-5: 海关总署 shares 5 experiences (附表2 rows 2, 3, 9; 附表4 row 3; 附表5 row 5) and owns 4 alone
    jointly = {a: int(n) for a, n in records(run(engine, catalogue, "agencies-ranked", owned="jointly"),
                                            "agency_label", "experiences")}
    alone = {a: int(n) for a, n in records(run(engine, catalogue, "agencies-ranked", owned="alone"),
                                          "agency_label", "experiences")}
    assert records(run(engine, catalogue, "agencies-ranked", owned="jointly"), "agency_label")[0] == ("海关总署",)
    assert jointly["海关总署"] == 5 and alone["海关总署"] == 4
    assert jointly["中国银行保险监督管理委员会"] == 4 and alone["中国银行保险监督管理委员会"] == 1
    assert alone["国家市场监督管理总局"] == 4 and "国家市场监督管理总局" not in jointly
    assert "司法部" in jointly and alone["司法部"] == 1           # 附表4 rows 2 (alone) and 3 (with 海关总署)
    for agency, total in AGENCY_COUNTS.items():
        assert jointly.get(agency, 0) + alone.get(agency, 0) == total, agency


def test_conflicting_attributions(engine, catalogue):
    # conflicts c1-c5 and c56: the zone or sub-area of a measure as the report states it in different places
    result = run(engine, catalogue, "conflicting-attributions")
    assert set(column(result, "measure_label")) == {
        "“一码集成”涉企检查新模式", "货物贸易“一保多用”管理模式", "数据保险箱", "知识产权联合执法模式",
        "中欧班列“长安号”", "境外机构境内外汇账户结汇业务"}
    assert set(column(result, "property")) == {f"{BASE}def#originatesIn", f"{BASE}def#originatesInSubArea"}


def test_conflicting_attributions_of_one_measure(engine, catalogue):
    # c2: Part 1 §六(一), lines 1310-1312: 天津、湖北、重庆 (followed); Part 2 line 2061, figure 2082-2087 and
    # table 2 row 6 (2347-2348): 重庆 only
    result = run(engine, catalogue, "conflicting-attributions", measure="货物贸易“一保多用”管理模式")
    got = set(records(result, "followed", "value_label", "first_line"))
    assert got == {("true", ZH("天津"), "1310"), ("true", ZH("湖北"), "1310"), ("true", ZH("重庆"), "1310"),
                   ("false", ZH("重庆"), "2059"), ("false", ZH("重庆"), "2082"), ("false", ZH("重庆"), "2347")}
    # c3: the figure (1777-1781) says 济南片区, the table (1908) and the prose (1746) 山东自贸试验区
    safe_box = run(engine, catalogue, "conflicting-attributions", measure="数据保险箱")
    assert set(records(safe_box, "followed", "value")) == {("true", f"{BASE}zone/shandong"),
                                                          ("false", f"{BASE}subarea/shandong-jinan")}


@pytest.mark.parametrize("approach, expected", [
    # （二）推动在线化, lines 1653-1702, and table 1 rows 7-12
    ("推动在线化", {("拓展在线办理的业务范围", "3"), ("增加在线办理的非人工干预环节", "2"), ("创新在线办理的连接介质", "1")}),
    # （二）创新通关监管模式, lines 2025-2126, and table 2 rows 4-8
    ("创新通关监管模式", {("对企业集团视为整体进行管理", "2"), ("对企业不同业务视为整体进行管理", "1"),
                  ("将监管流程改为并联式", "1"), ("监管环节应用新技术", "1")}),
])
def test_points_of_approach(engine, catalogue, approach, expected):
    result = run(engine, catalogue, "points-of-approach", approach=approach)
    assert set(records(result, "point_label", "measures")) == expected


def test_zones_ranked_by_table_measures(engine, catalogue):
    # Part 2 tables 1-7: 山东 12 rows (table 1 rows 10, 13, 15; table 2 rows 2, 5, 12, 18; table 3 row 1;
    # table 4 row 9; table 5 rows 1, 4; table 6 row 2), 辽宁 8, 天津 7 (table 2 row 6 is Chongqing's)
    result = run(engine, catalogue, "zones-ranked-by-table-measures")
    got = [(z, int(n)) for z, n in records(result, "zone_label", "measures")]
    assert got[:3] == [(ZH("山东"), 12), (ZH("辽宁"), 8), (ZH("天津"), 7)]
    assert sum(n for _, n in got) == 18 + 18 + 10 + 11 + 8 + 11 + 8
    assert len(got) == 21 and [n for _, n in got] == sorted((n for _, n in got), reverse=True)


def test_establishment_batches_ranked(engine, catalogue):
    # line 188 (sixth batch: 北京、湖南、安徽; 21 zones in six batches); batches 1-5: the State Council's plans
    result = run(engine, catalogue, "establishment-batches-ranked")
    assert records(result, "batch_number", "year", "zones") == [
        ("3", "2017", "7"), ("5", "2019", "6"), ("2", "2015", "3"), ("6", "2020", "3"), ("1", "2013", "1"),
        ("4", "2018", "1")]
