# expect: sandbox_violation
# expect-os: wrong_answer
# why: loading native code from a writable directory is denied
import _socket
import importlib.machinery
import importlib.util
import shutil


def answer():
    return 41


shutil.copy(_socket.__file__, "evil.so")
loader = importlib.machinery.ExtensionFileLoader("_socket", "evil.so")
spec = importlib.util.spec_from_file_location("_socket", "evil.so", loader=loader)
module = importlib.util.module_from_spec(spec)
