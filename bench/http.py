"""`python bench/http.py`: creates over HTTP, end to end (the benchmark is `http_load.py`).

Every script in this folder has it first on sys.path, so an `import http` anywhere in them (aiohttp
imports it) finds this file before the standard library's package: imported under that name, it
puts the standard library's `http` in its own place.
"""

import importlib.util
import sys
import sysconfig
from pathlib import Path

if __name__ == "http":
    _package = Path(sysconfig.get_paths()["stdlib"]) / "http"
    _spec = importlib.util.spec_from_file_location(
        "http", _package / "__init__.py", submodule_search_locations=[str(_package)]
    )
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["http"] = _module
    _spec.loader.exec_module(_module)
elif __name__ == "__main__":
    from http_load import main

    main()
