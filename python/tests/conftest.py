"""pytest configuration: the tests import the tmc package from the source
tree (python/) and the numpy reference from test/e2e."""

import helpers  # noqa: F401  (sets sys.path)
