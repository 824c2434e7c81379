"""The platform's code tables: every documented code has its label, an unlisted one is shown as
sent, and a row's coded fields are picked out in the tables' order."""

from django.utils import translation

from parkingops.pcloud.codes import CarType, PlateColour, VipType, code_label, labelled_codes


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
