"""Build of the matcher's C extension (shared/rules/_core.pyx); everything else is in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [Extension("shared.rules._core", ["shared/rules/_core.pyx"], extra_compile_args=["-O2"])],
        compiler_directives={"language_level": "3"},
    )
)
