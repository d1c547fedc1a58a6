"""Write the two inspect_ai logs that tests/test_import_inspect.py imports.

Not run by the tests (inspect_ai is not a promgate dependency). To regenerate, in a
virtual environment with ``pip install inspect-ai`` (0.3.285 wrote the committed logs):

    python tests/data/inspect/make_logs.py tests/data/inspect

Two "models" answer ten arithmetic questions over two epochs through inspect's mock model;
inspect's ``match(numeric=True)`` scorer grades them C / I, and inspect writes the ``.eval``
zip logs (zstd members: header.json, samples/<id>_epoch_<n>.json, summaries.json, ...).
"""

import shutil
import sys
from collections import Counter
from pathlib import Path

from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import match

PAIRS = [(2, 3), (10, 4), (7, 8), (1, 1), (6, 9), (12, 30), (5, 5), (3, 14), (20, 22), (9, 9)]
QUESTIONS = [(f"What is {a} + {b}?", a + b) for a, b in PAIRS]
# Per question, how many of the two epochs each model gets right.
RIGHT = {
    "baseline": [2, 0, 1, 2, 0, 2, 1, 0, 2, 0],
    "candidate": [2, 1, 2, 2, 0, 2, 2, 1, 2, 1],
}


def answerer(name: str):
    seen = Counter()

    def answer(messages, tools, tool_choice, config):
        question = messages[-1].text
        index = next(i for i, (q, _) in enumerate(QUESTIONS) if q == question)
        epoch = seen[question]
        seen[question] += 1
        truth = QUESTIONS[index][1]
        value = truth if epoch < RIGHT[name][index] else truth + 1
        out = ModelOutput.from_content(model=name, content=f"The answer is {value}.")
        # Usage given, so inspect does not count tokens with a downloaded tokenizer.
        out.usage = ModelUsage(input_tokens=8, output_tokens=5, total_tokens=13)
        return out

    return answer


def main(out: Path) -> None:
    dataset = [
        Sample(id=i + 1 if i % 2 else f"q{i + 1}", input=q, target=str(a))
        for i, (q, a) in enumerate(QUESTIONS)
    ]
    for name in RIGHT:
        task = Task(dataset=dataset, scorer=match(numeric=True), name="arith")
        model = get_model("mockllm/model", custom_outputs=answerer(name))
        (log,) = inspect_eval(
            task,
            model=model,
            epochs=2,
            log_dir=str(out / "_logs"),
            display="none",
            max_connections=1,
        )
        assert log.status == "success", log.error
        shutil.copy(log.location, out / f"{name}.eval")
        print(name, log.results.scores[0].metrics["accuracy"].value)
    shutil.rmtree(out / "_logs")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
