"""What loads where: the commands and the extraction workers import only what they use (giodq/imports.py,
the note in giodq/pipeline.py)."""
import subprocess
import sys


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_scipy_stats_waits_for_its_first_use():
    # GX imports it at load for an expectation no suite uses (giodq/imports.py); it must still work when used
    code = ("import sys, giodq.validate, great_expectations\n"
            "assert type(sys.modules['scipy.stats']).__name__ == '_LazyModule', type(sys.modules['scipy.stats'])\n"
            "from scipy import stats\n"
            "assert abs(stats.entropy([0.5, 0.5]) - 0.6931471805599453) < 1e-12\n"
            "import scipy.stats\n"
            "assert scipy.stats.norm.cdf(0) == 0.5\n")
    done = _python(code)
    assert done.returncode == 0, done.stderr


def test_an_extraction_worker_loads_neither_gx_nor_the_publishing_stage():
    # a process pool's worker unpickles the flow with each task's context, and so imports the flow's
    # module: GX there would cost every worker ~2.5 s and ~110 MB
    code = ("import sys, flows.district_run, flows.extraction\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'great_expectations'\n"
            "                or m in ('giodq.publish.docs', 'giodq.validate.run', 'giodq.validate.suites'))\n"
            "assert not loaded, loaded[:5]\n")
    done = _python(code)
    assert done.returncode == 0, done.stderr
