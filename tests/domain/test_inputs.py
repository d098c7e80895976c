"""How deep a JSON body nests, read before parsing: the same depth the parsed document has."""
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain.inputs import MAX_JSON_DEPTH, json_too_deep

# Strings full of what could be mistaken for structure: brackets, quotes, backslashes, escapes.
TRICKY_TEXT = st.text(alphabet=st.sampled_from(list('[]{}"\\/ aü\n\u2028')), max_size=12)
DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers() | TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TRICKY_TEXT, inner, max_size=4),
    max_leaves=60,
)


def depth(document) -> int:
    if isinstance(document, list):
        return 1 + max(map(depth, document), default=0)
    if isinstance(document, dict):
        return 1 + max(map(depth, document.values()), default=0)
    return 0


def nested(levels: int, leaf='"]]}}"') -> str:
    return '{"a": ' * levels + leaf + "}" * levels


@settings(max_examples=400, deadline=None)
@given(DOCUMENTS, st.integers(min_value=0, max_value=6), st.booleans())
def test_the_depth_read_unparsed_is_the_parsed_documents(document, limit, ascii_only):
    raw = json.dumps(document, ensure_ascii=ascii_only)
    assert json_too_deep(raw, limit) == (depth(document) > limit)
    assert json_too_deep(raw.encode(), limit) == (depth(document) > limit)


def test_the_limit_itself_is_accepted_and_one_more_level_is_not():
    assert not json_too_deep(nested(MAX_JSON_DEPTH))
    assert json_too_deep(nested(MAX_JSON_DEPTH + 1))


def test_brackets_inside_strings_and_escaped_quotes_do_not_count():
    assert not json_too_deep('["' + "[" * 500 + '\\"' + "{" * 500 + '"]')


def test_a_body_that_only_opens_is_too_deep():
    assert json_too_deep("[" * (MAX_JSON_DEPTH + 1))
    assert not json_too_deep("")
