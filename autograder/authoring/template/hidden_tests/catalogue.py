"""The catalogue of __assignment__ submissions, for `course check` (see the kit's docs/authoring.md): correct
ways of writing each graded function (full marks: the hidden tests must not insist on one way), and common
mistakes, each tagged with the one function where it must lose points (`zero`: a do-nothing function must
earn nothing there). Never released. Add an entry for every mistake you see students make."""

from autograder.authoring.check.catalogue import Entry

# fmt: off
CORRECT = (
    Entry("standardize_keepdim", {"standardize": """
        def standardize(x):
            return (x - x.mean(dim=0, keepdim=True)) / x.std(dim=0, keepdim=True)
        """}),
)

MISTAKES = (
    Entry("standardize_population_std", {"standardize": """
        def standardize(x):
            return (x - x.mean(dim=0)) / x.std(dim=0, unbiased=False)
        """}, loses="standardize", what="divides by the population standard deviation"),
    Entry("standardize_in_place", {"standardize": """
        def standardize(x):
            x -= x.mean(dim=0)
            x /= x.std(dim=0)
            return x
        """}, loses="standardize", what="changes x in place", fails=("test_input_unchanged_and_dtype_kept",)),
    Entry("standardize_does_nothing", {"standardize": """
        def standardize(x):
            return x
        """}, loses="standardize", what="returns x as it is", zero=True),
)
