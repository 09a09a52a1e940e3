from django.db import migrations

# The one definition of what search sees (papers.search fills the column with it):
# title outweighs abstract, which outweighs author names. One text search configuration
# throughout, so that a query (parsed with the same one) matches names too.
# Declared IMMUTABLE so that it may also serve in indexes and generated columns.
SEARCH_VECTOR_FUNCTION = """
CREATE OR REPLACE FUNCTION paperfeed_search_vector(title text, abstract text, authors text[])
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
      || setweight(to_tsvector('english'::regconfig, coalesce(abstract, '')), 'B')
      || setweight(to_tsvector('english'::regconfig, coalesce(array_to_string(authors, ' '), '')), 'C')
$$;
"""


class Migration(migrations.Migration):
    operations = [
        migrations.RunSQL(
            SEARCH_VECTOR_FUNCTION,
            reverse_sql="DROP FUNCTION IF EXISTS paperfeed_search_vector(text, text, text[])",
        ),
    ]
