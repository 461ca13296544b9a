import pytest

from dnaf.data.names import (
    deepfashion_identity,
    flatten_deepfashion_path,
    market_identity,
)


@pytest.mark.parametrize(
    ("path", "flat"),
    [
        (
            "img/MEN/Denim/id_00000080/01_1_front.jpg",
            "fashionMENDenimid0000008001_1front.jpg",
        ),
        (
            "MEN/Shirts_Polos/id_00001802/02_4_full.jpg",
            "fashionMENShirts_Polosid0000180202_4full.jpg",
        ),
        (
            "img/WOMEN/Blouses_Shirts/id_00000693/02_3_back.jpg",
            "fashionWOMENBlouses_Shirtsid0000069302_3back.jpg",
        ),
        (
            "img/WOMEN/Tees_Tanks/id_00007838/05_7_additional.jpg",
            "fashionWOMENTees_Tanksid0000783805_7additional.jpg",
        ),
    ],
)
def test_flatten_matches_the_published_split_names(path, flat):
    assert flatten_deepfashion_path(path) == flat


def test_flattened_examples_are_in_the_real_split_files(real_fixtures):
    names = set((real_fixtures / "deepfashion-train.lst").read_text().split())
    names |= set((real_fixtures / "deepfashion-test.lst").read_text().split())
    assert "fashionMENShirts_Polosid0000180202_4full.jpg" in names
    assert "fashionWOMENBlouses_Shirtsid0000069302_3back.jpg" in names
    assert "fashionWOMENTees_Tanksid0000783805_7additional.jpg" in names
    # every real name has a person identity
    identities = {deepfashion_identity(name) for name in names}
    assert 8000 < len(identities) < 9000


@pytest.mark.parametrize(
    "path",
    [
        "img/MEN/Denim/01_1_front.jpg",
        "img/KIDS/Denim/id_00000080/01_1_front.jpg",
        "img/MEN/Denim/id_80/01_1_front.jpg",
        "img/MEN/Denim/id_00000080/front.jpg",
    ],
)
def test_flatten_rejects_paths_outside_the_tree(path):
    with pytest.raises(ValueError, match="expected"):
        flatten_deepfashion_path(path)


def test_identities():
    assert deepfashion_identity("fashionMENDenimid0000008001_1front.jpg") == "fashionMENDenimid00000080"
    assert market_identity("0228_c6s3_006817_02.jpg") == "0228"
    assert market_identity("-1_c5s3_086412_11.jpg") == "-1"
