"""The whole report in the graph (issue 18): its figures as an RDF Data Cube, Part 1's zone
initiatives, the 2020 chronicle, the policy documents it names and the zones' strategies.

Expected answers are written out from the report's text edition (line numbers given), never
produced by running the code."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rdflib import URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, SKOS

from ftz_kg.pipeline.figures import base_value
from ftz_kg.pipeline.stats import instances
from ftz_kg.vocab import ELI, FTZ, QB
from tests.test_queries import catalogue, engine  # noqa: F401  (the query tests' fixtures)
from tests.test_statements import rows

BASE = "https://w3id.org/ftz-kg/"
ZH = lambda short: f"中国（{short}）自由贸易试验区"  # noqa: E731  the official zone name


def figure(found: list[dict], **match) -> list[dict]:
    return [r for r in found if all(r[k] == v for k, v in match.items())]


# ---------------------------------------------------------------- figures (RDF Data Cube)

def test_programme_totals_of_2020(engine, catalogue):
    # 651-663: 2020 年，前五批 18 家自贸试验区实现进出口总额 4.7 万亿元 … 实现了全国 14.7% 的外贸规模 …
    # 18 个自贸试验区实际利用外资 1763.8 亿元，新设外资企业 6472 家，占全国比重分别为 17.6% 和 16.8%
    trade = rows(engine, catalogue, "compare-zones", indicator="进出口总额")
    five = figure(trade, area=BASE + "group/first-five-batches")
    assert [(r["value"], r["unit_label"], r["period"]) for r in five] == [("4.7", "万亿元", "2020")]
    assert Decimal(five[0]["base_value"]) == Decimal("4700000000000")     # 4.7 万亿元 in yuan
    fdi = figure(rows(engine, catalogue, "compare-zones", indicator="actual-use-of-foreign-capital"),
                 area=BASE + "group/first-five-batches")
    assert [(r["value"], r["unit_label"]) for r in fdi] == [("1763.8", "亿元")]
    firms = figure(rows(engine, catalogue, "compare-zones", indicator="new-foreign-invested-enterprises"),
                   area=BASE + "group/first-five-batches")
    assert [(r["value"], r["unit_label"]) for r in firms] == [("6472", "家")]
    shares = {r["value"] for name in ("share-of-national-foreign-trade", "share-of-national-foreign-capital",
                                      "share-of-national-new-foreign-invested-enterprises")
              for r in rows(engine, catalogue, "compare-zones", indicator=name)
              if r["area"] == BASE + "group/first-five-batches"}
    assert shares == {"14.7", "17.6", "16.8"}


def test_the_same_figure_in_the_preface_and_part_1_is_one_observation_with_two_places(graph):
    # Preface 73-77 repeats 651-663: one figure, cited at both places (RDF Data Cube IC-12: no duplicates)
    trade = [o for o in graph.subjects(FTZ.indicator, URIRef(BASE + "indicator/foreign-trade-value"))
             if graph.value(o, FTZ.refArea) == URIRef(BASE + "group/first-five-batches")]
    assert len(trade) == 1
    places = {str(graph.value(c, FTZ.place)) for c in graph.objects(trade[0], PROV.wasDerivedFrom)}
    assert places == {BASE + "source/preface", BASE + "source/part1-s2"}
    quotes = [str(graph.value(c, FTZ.quote)) for c in graph.objects(trade[0], PROV.wasDerivedFrom)]
    assert all("4.7 万亿元" in q for q in quotes)


def test_figures_of_shaanxi(engine, catalogue):
    # 1209-1211: 陕西自贸试验区进出口总额达 2416.69 亿元，占全省进出口总额 3433.8 亿元的 70.38%
    found = rows(engine, catalogue, "zone-figures", zone="陕西自贸试验区")
    assert {(r["indicator_label"], r["value"], r["unit_label"]) for r in found} >= {
        ("进出口总额", "2416.69", "亿元"), ("占全省进出口总额比重", "70.38", "百分比")}
    row = figure(found, indicator_label="进出口总额", value="2416.69")[0]
    assert "(1209): 陕西自贸试验区进出口总额达 2416.69 亿元" in row["stated_at"]
    # the province's total is about Shaanxi province, not the zone
    provincial = figure(rows(engine, catalogue, "compare-zones", indicator="进出口总额"),
                        area=BASE + "province/shaanxi")
    assert [r["value"] for r in provincial] == ["3433.8"]


def test_figures_of_lingang_and_qianhai(graph):
    # 1225-1227: 临港新片区 … 揭牌至今已签约项目 497 个，涉及投资额 3325.68 亿元，全年产业投资同比增长 68.7%
    # 1227-1231: 前海片区 … 新引进注册资本超亿元企业 331 家，新增持牌金融机构 12 家，累计认定总部企业 90 家
    def values(subarea):
        return {str(graph.value(o, FTZ.obsValue)).removesuffix(".0")
                for o in graph.subjects(FTZ.refArea, URIRef(BASE + "subarea/" + subarea))}
    assert {"497", "3325.68", "68.7"} <= values("shanghai-lingang")
    assert {"331", "12", "90"} <= values("guangdong-qianhai-shekou")


def test_devolved_powers_and_the_negative_list(graph):
    # 313-321: 山东 … 除法律法规明确不能下放的213项省级事权外 …; 江苏 … 221 项赋予南京片区，124 项赋予苏州片区，
    # 171 项赋予连云港片区，累计赋予 273 项
    def figures_of(area):
        return {str(graph.value(o, FTZ.obsValue)).removesuffix(".0")
                for o in graph.subjects(FTZ.refArea, URIRef(BASE + area))}
    assert "213" in figures_of("zone/shandong")
    assert "273" in figures_of("zone/jiangsu")
    assert "221" in figures_of("subarea/jiangsu-nanjing")
    assert "124" in figures_of("subarea/jiangsu-suzhou")
    assert "171" in figures_of("subarea/jiangsu-lianyungang")
    # 379: 自贸试验区外商投资准入负面清单特别管理措施由 37 项减至 30 项
    negative = URIRef(BASE + "indicator/negative-list-measures")
    assert {(str(graph.value(o, FTZ.refPeriod)), str(graph.value(o, FTZ.obsValue)).removesuffix(".0"))
            for o in graph.subjects(FTZ.indicator, negative)} == {("2019", "37"), ("2020", "30")}


def test_figures_keep_the_reports_qualifier(graph):
    # 4820-4822 (box 3-20): 有超过 50 家中外资企业获得离岸转手买卖支付汇兑便利支持 — "more than", not exactly 50
    more = {o for o in graph.subjects(FTZ.valueQualifier, URIRef(BASE + "value-qualifier/more-than"))}
    assert any(str(graph.value(o, FTZ.obsValue)).removesuffix(".0") == "50"
               and graph.value(o, FTZ.refArea) == URIRef(BASE + "zone/shanghai") for o in more)


def test_every_figure_is_a_complete_observation_of_the_data_set(graph):
    observations = set(graph.subjects(RDF.type, QB.Observation))
    assert len(observations) >= 200     # "a few hundred numbers"
    dataset = URIRef(BASE + "dataset/report-figures")
    for obs in observations:
        assert graph.value(obs, QB.dataSet) == dataset
        for dimension in (FTZ.refArea, FTZ.refSubject, FTZ.indicator, FTZ.refPeriod, FTZ.periodBasis,
                          FTZ.valueQualifier, FTZ.obsValue, FTZ.unit, FTZ.valueInBaseUnit):
            assert graph.value(obs, dimension) is not None, (obs, dimension)
        citations = list(graph.objects(obs, PROV.wasDerivedFrom))
        assert citations and all(graph.value(c, FTZ.quote) is not None for c in citations)


@pytest.mark.parametrize("value, factor, expected", [
    ("4.7", "1000000000000", "4700000000000"), ("2416.69", "100000000", "241669000000"),
    ("6.5", "0.01", "0.065"), ("281.1", "10000", "2811000"), ("6472", "1", "6472")])
def test_base_value_is_exact_decimal_arithmetic(value, factor, expected):
    assert base_value(Decimal(value), Decimal(factor)) == Decimal(expected)
    assert "E" not in format(base_value(Decimal(value), Decimal(factor)), "f")


def test_indicators_list_counts_figures(engine, catalogue):
    found = rows(engine, catalogue, "indicators", lang="en")
    trade = next(r for r in found if r["indicator"] == BASE + "indicator/foreign-trade-value")
    assert trade["indicator_label"] == "Total imports and exports"
    assert int(trade["figures"]) >= 4     # the 18 zones, Shaanxi zone and province, Qianhai bonded zone


# ---------------------------------------------------------------- Part 1's zone initiatives

@pytest.mark.parametrize("name, zone, subarea", [
    ("“负面清单”赋权模式", "shandong", None),                                 # 313
    ("互市贸易“集中申报、整进整出”通关新模式", "guangxi", "guangxi-chongzuo"),   # 397
    ("“线上海关”", "guangdong", None),                                        # 761-779
    ("“第二总部”", "hubei", None),                                           # 941-947
    ("跨境人民币结算动态“白名单”模式", "hebei", None),                          # 1056-1058
    ("总部经济", "guangdong", "guangdong-qianhai-shekou"),                     # 1227-1231
    ("量子信息产业", "anhui", "anhui-hefei"),                                  # 1241-1245
    ("“一船多地多供”", "zhejiang", None),                                     # 2981-2983
    ("“先供后报”", "zhejiang", None),                                         # 2981-2983
])
def test_part1_initiatives_are_measures_of_their_zone(graph, name, zone, subarea):
    from rdflib import Literal
    measures = [m for m in graph.subjects(SKOS.prefLabel, Literal(name, lang="zh"))
                if (m, RDF.type, FTZ.InnovationMeasure) in graph]
    assert len(measures) == 1, name
    measure = measures[0]
    assert URIRef(BASE + "zone/" + zone) in set(graph.objects(measure, FTZ.originatesIn))
    if subarea:
        assert URIRef(BASE + "subarea/" + subarea) in set(graph.objects(measure, FTZ.originatesInSubArea))


def test_part1_initiatives_in_measures_by_zone(engine, catalogue):
    found = rows(engine, catalogue, "measures-by-zone", zone="湖北自贸试验区", part="part1")
    assert "“第二总部”" in {r["measure_label"] for r in found}


def test_yangling_area_of_diversified_agricultural_insurance(graph):
    # 3271: 杨凌示范区片区 … 多元化农业保险
    measure = URIRef(BASE + "measure/diversified-agricultural-insurance")
    assert URIRef(BASE + "subarea/shaanxi-yangling") in set(graph.objects(measure, FTZ.originatesInSubArea))


# ---------------------------------------------------------------- the chronicle and dated events

def test_chronicle_pairs_the_dates_printed_over_two_paragraphs(engine, catalogue):
    # 5254: "2020/1/22 2020/3/31" over two paragraphs: 国函〔2020〕8号, then 国函〔2020〕32 号
    found = rows(engine, catalogue, "chronicle")
    by_event = {r["event"]: r for r in found}
    assert by_event[BASE + "event/guohan-2020-8-issued"]["date"] == "2020-01-22"
    assert by_event[BASE + "event/guohan-2020-32-approved"]["date"] == "2020-03-31"
    assert by_event[BASE + "event/guohan-2020-8-issued"]["pairing"] == "reconstructed"
    # 5444-5452: 2020/7/7 国函〔2020〕96 号; 5470-5475: 国发〔2020〕10 号, then "2020/8/30 2020/9/1"
    assert by_event[BASE + "event/guohan-2020-96-issued"]["date"] == "2020-07-07"
    assert by_event[BASE + "event/guofa-2020-10-approved"]["date"] == "2020-08-30"
    dates = [r["date"] for r in found]
    assert dates == sorted(dates)


def test_events_create_the_batches_and_issue_their_documents(graph):
    event = URIRef(BASE + "event/guohan-2020-96-issued")
    assert URIRef(BASE + "batch/experiences-6") in set(graph.objects(event, PROV.generated))
    assert URIRef(BASE + "document/guohan-2020-96") in set(graph.objects(event, PROV.generated))
    assert URIRef(BASE + "document/guohan-2020-96") in set(graph.objects(URIRef(BASE + "batch/experiences-6"),
                                                                         DCTERMS.references))
    assert URIRef(BASE + "document/guofa-2020-10") in set(graph.objects(URIRef(BASE + "batch/zones-6"),
                                                                        DCTERMS.references))


def test_reconstructed_pairings_say_how(graph):
    for event in graph.subjects(FTZ.datePairing, None):
        if str(graph.value(event, FTZ.datePairing)) == "reconstructed":
            assert graph.value(event, SKOS.note) is not None, event


# ---------------------------------------------------------------- policy documents

def test_documents_with_number_title_issuer_and_date(graph):
    doc = URIRef(BASE + "document/guohan-2020-96")
    assert str(graph.value(doc, ELI.id_local)) == "国函〔2020〕96号"
    assert (doc, RDF.type, FTZ.StateCouncilDocument) in graph
    assert URIRef(BASE + "agency/state-council") in set(graph.objects(doc, ELI.passed_by))
    titles = {str(t) for t in graph.objects(doc, ELI.title) if t.language == "zh"}
    assert titles == {"关于做好自由贸易试验区第六批改革试点经验复制推广工作的通知"}     # 5445-5447
    # 884-886: 《中国（山东）自贸试验区条例》, a zone's regulations
    shandong = URIRef(BASE + "document/shandong-ftz-regulations")
    assert (shandong, RDF.type, FTZ.LocalRegulation) in graph
    assert URIRef(BASE + "zone/shandong") in set(graph.objects(shandong, DCTERMS.spatial))


def test_document_lookup_by_number(engine, catalogue):
    found = rows(engine, catalogue, "document-references", document="国函〔2020〕96号")
    assert {r["kind"] for r in found} == {"place", "event", "batch"}
    assert any(r["kind"] == "place" and "国函〔2020〕" in r["quote"] for r in found)


def test_policy_documents_include_the_agreements(engine, catalogue):
    found = rows(engine, catalogue, "policy-documents", lang="en")
    labels = {r["document_label"] for r in found}
    assert len(found) >= 50
    assert any("Regional Comprehensive Economic Partnership" in label for label in labels)   # RCEP, 733-878


# ---------------------------------------------------------------- zones, groups and strategies

def test_hunan_serves_manufacturing_power_and_the_rise_of_the_central_region(engine, catalogue):
    # 230-234: 湖南自贸试验区 … 全面落实加快建设制造强国、实施中部地区崛起战略等要求
    pairs = {(r["zone_label"], r["strategy_label"]) for r in rows(engine, catalogue, "zone-strategies")}
    assert (ZH("湖南"), "建设制造强国") in pairs
    assert (ZH("湖南"), "中部地区崛起") in pairs
    found = rows(engine, catalogue, "strategy-zones", strategy="中部地区崛起")
    hunan = figure(found, area=BASE + "zone/hunan")[0]
    assert hunan["kind"] == "zone" and "230-234" in hunan["stated_at"]
    # 1241-1243: 合肥片区 … 服务中部地区崛起
    assert figure(found, area=BASE + "subarea/anhui-hefei", kind="sub-area")


def test_a_zone_tied_only_through_a_measure_is_shown_so(engine, catalogue):
    # 1118-1120: 四川和广西两省及自贸试验区跨省合作建设了川桂国际产能合作产业园 — an example under 沿边开放;
    # the report never names Sichuan a border zone (3668 names 广西、云南、黑龙江)
    found = rows(engine, catalogue, "strategy-zones", strategy="沿边开放发展")
    assert {r["area"] for r in found if r["kind"] == "zone"} == {
        BASE + "zone/guangxi", BASE + "zone/yunnan", BASE + "zone/heilongjiang"}
    sichuan = figure(found, area=BASE + "zone/sichuan")
    assert [r["kind"] for r in sichuan] == ["measure"] and "川桂" in sichuan[0]["via"]


def test_groups_the_report_names(engine, catalogue):
    found = {r["group"]: r for r in rows(engine, catalogue, "zone-groups")}
    # 3668: 广西、云南、黑龙江3个自贸试验区
    assert found[BASE + "group/border-zones"]["zones"] == "3"
    assert found[BASE + "group/first-five-batches"]["zones"] == "18"      # 651
    assert found[BASE + "group/new-zones-2020"]["zones"] == "3"           # 186: 新设北京、湖南、安徽 3 个自贸试验区


def test_report_named_sub_areas_stand_for_plan_sub_areas_and_are_not_counted(graph):
    # 355: 成都片区; the zone's plan has 天府新区片区 and 青白江铁路港片区
    chengdu = URIRef(BASE + "subarea/sichuan-chengdu")
    assert (chengdu, RDF.type, FTZ.SubAreaGroup) in graph
    assert (chengdu, RDF.type, FTZ.SubArea) not in graph
    assert set(graph.objects(chengdu, DCTERMS.hasPart)) == {URIRef(BASE + "subarea/sichuan-tianfu"),
                                                             URIRef(BASE + "subarea/sichuan-qingbaijiang")}
    assert len(instances(graph, FTZ.SubArea)) == 67      # the report's total (part1-s1-1)


def test_case_box_titles(graph):
    # 4093-4094: the label of box 3-1 follows its body: 典型案例专栏3-1 自贸试验区支持社会资本增强供给能力
    labels = {str(l) for l in graph.objects(URIRef(BASE + "source/part3-box3-1"), SKOS.prefLabel) if l.language == "zh"}
    assert any("自贸试验区支持社会资本增强供给能力" in label for label in labels)


@pytest.mark.parametrize("label, line", [("减少研发环节的各类制度性成本", 3085),
                                         ("强化国内国际市场间的供应链合作", 3246),
                                         ("提升产业的抗风险保障能力", 3255)])
def test_figure_only_innovation_points(graph, label, line):
    from rdflib import Literal
    points = [p for p in graph.subjects(SKOS.prefLabel, Literal(label, lang="zh"))
              if (p, RDF.type, FTZ.InnovationPoint) in graph]
    assert len(points) == 1, (label, line)
