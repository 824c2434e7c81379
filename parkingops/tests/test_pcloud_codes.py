"""The platform's code tables: every documented code has its label, an unlisted one is shown as
sent, and a row's coded fields are picked out in the tables' order."""

from django.utils import translation

from parkingops.pcloud.codes import (
    CarType,
    PlateColour,
    VipType,
    answer_label,
    code_label,
    error_label,
    labelled_codes,
)


def test_documented_codes_have_their_labels_in_chinese_and_english():
    with translation.override("zh-hans"):
        assert code_label(PlateColour, 1) == "蓝色"
        assert code_label(CarType, "2") == "月租车"
        assert code_label(VipType, " 5 ") == "年卡"
    with translation.override("en"):
        assert code_label(PlateColour, "-1") == "unknown"


def test_an_unlisted_or_unreadable_code_is_shown_as_sent():
    assert code_label(PlateColour, 42) == "42"
    assert code_label(CarType, "blue") == "blue"


def test_labelled_codes_picks_the_coded_fields_of_a_row():
    with translation.override("zh-hans"):
        labels = labelled_codes(
            {"vehicle_type": 5, "note": "x", "car_type": "1", "plate_color": "", "vip_type": 99}
        )

    assert labels == [
        ("车辆类型", "1", "临时车"),
        ("车型", "5", "电动车"),
        ("固定车类型", "99", "99"),
    ]


def test_the_platforms_answers_have_chinese_labels():
    with translation.override("zh-hans"):
        assert answer_label("1001", "success") == "成功"
        assert answer_label("1002", "no data") == "无数据"
        assert answer_label("401", "") == "应用未登记或签名错误"
        assert answer_label("403", "forbidden") == "本应用未获该接口授权（forbidden）"
        assert answer_label("1500", "db down") == "平台内部错误（db down）"
        assert answer_label("network", "URLError: refused") == "无法连接平台（URLError: refused）"
        assert answer_label("bad_payload", "") == "无法读取平台应答"


def test_an_unknown_code_is_shown_as_unknown_with_its_message():
    with translation.override("zh-hans"):
        assert answer_label("2001", "quota exceeded") == "未知代码 2001: quota exceeded"
        assert answer_label("2001", "") == "未知代码 2001: –"


def test_a_stored_outcome_is_labelled_whichever_way_it_was_kept():
    with translation.override("zh-hans"):
        assert (
            error_label("1500: simulated failure 1500") == "平台内部错误（simulated failure 1500）"
        )
        assert error_label("success") == "成功"
        assert error_label("401") == "应用未登记或签名错误"
        assert error_label("9999: odd") == "未知代码 9999: odd"
        assert error_label("") == ""
        assert error_label("free text: with a colon") == "free text: with a colon"
