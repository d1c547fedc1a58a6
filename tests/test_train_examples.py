import pytest

from promgate.train.examples import IGNORE_INDEX, encode_example

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def tokenizer(base_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(base_model_dir)


@pytest.mark.parametrize("max_length", [16, 64, 128, 1024])
def test_reply_is_always_supervised_and_window_respected(tokenizer, max_length):
    long_prompt = "Question: " + "word " * 200 + "?\nAnswer:"
    example = encode_example(tokenizer, long_prompt, " so it is 42 #### 42", max_length)
    supervised = [t for t in example.labels if t != IGNORE_INDEX]
    assert len(example.input_ids) == len(example.labels) <= max_length
    assert supervised, "a NaN loss follows from an example with no supervised token"
    assert tokenizer.decode(supervised).startswith("so it is 42")


def test_prompt_tokens_are_masked(tokenizer):
    example = encode_example(tokenizer, "Question: 1+1?\nAnswer:", " 2", 256)
    supervised = [t for t in example.labels if t != IGNORE_INDEX]
    assert tokenizer.decode(supervised).strip().startswith("2")
    masked = example.labels.count(IGNORE_INDEX)
    assert tokenizer.decode(example.input_ids[:masked]).rstrip().endswith("assistant")
