"""Config checks that need no workflow run: the model spec (path or Hub id, online or offline), the
files a local model declares, the schema's one-line messages."""

import pytest

from swimscale.config import check_model, check_schema, model_files, validated
from swimscale.errors import InputError


def model_dir(path):
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    (path / "model.safetensors").write_bytes(b"weights")
    (path / ".hidden").write_text("x")
    return path


@pytest.fixture
def online(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    monkeypatch.chdir(tmp_path)


def test_a_spec_whose_first_folder_exists_is_a_path(online, tmp_path):
    model_dir(tmp_path / "models" / "mdpr")
    check_model("models/mdpr")
    check_model("./models/mdpr")
    with pytest.raises(InputError, match=r"model path 'models/mdrp' does not exist; models holds: mdpr"):
        check_model("models/mdrp")
    check_model("castorini/mdpr-tied-pft-msmarco")  # online, a Hub id: checked when a job loads it


def test_offline_a_hub_id_must_be_cached(online, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputError) as err:
        check_model("castorini/mdpr-tied-pft-msmarco")
    message = str(err.value)
    assert "HF_HUB_OFFLINE is set" in message and str(tmp_path / "hub-cache") in message
    assert "huggingface-cli download castorini/mdpr-tied-pft-msmarco --local-dir models/<name>" in message
    (tmp_path / "hub-cache" / "models--castorini--mdpr-tied-pft-msmarco" / "snapshots").mkdir(parents=True)
    check_model("castorini/mdpr-tied-pft-msmarco")  # in the cache: fine offline
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    check_model("someone/not-cached")


def test_a_local_model_declares_its_files(online, tmp_path):
    model_dir(tmp_path / "models" / "mdpr")
    assert model_files("./models/mdpr") == ["models/mdpr/config.json", "models/mdpr/model.safetensors"]
    assert model_files("castorini/mdpr-tied-pft-msmarco") == [] and model_files("bundled:all-MiniLM-L6-v2") == []


@pytest.mark.parametrize("change, message", [
    (lambda c: c["pools"]["ny"].update(on_bad_record="ignore"),
     "config 'pools.ny.on_bad_record': 'ignore' is not one of ['stop', 'skip']"),
    (lambda c: c.update(results_dir=""), "config 'results_dir': '' should be non-empty"),
    (lambda c: c["pools"]["ny"].update(sizes=[]), "config 'pools.ny.sizes': [] should be non-empty"),
    (lambda c: c.pop("seeds"), "config: 'seeds' is a required property"),
])
def test_schema_errors_name_the_key_in_one_line(tiny_config, change, message):
    change(tiny_config)
    with pytest.raises(InputError) as err:
        check_schema(tiny_config)
    assert str(err.value) == message


def test_the_shipped_configs_pass_the_schema(tiny_config):
    check_schema(tiny_config)
    check_schema(validated(tiny_config))
