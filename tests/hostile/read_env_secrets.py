# expect: wrong_answer
# expect-os: wrong_answer
# why: the environment is empty: the secret the harness holds is not there
import os

print(dict(os.environ))


def answer():
    return 42 if os.environ.get("__SECRET_NAME__") == "__SECRET_VALUE__" else 0
