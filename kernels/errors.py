"""The one exception type of the kernels package."""


class KernelInputError(ValueError):
    """An argument of a kernel is out of its domain.

    The message names the argument, what was expected, what was received and how to fix it.
    """
