from django.db import migrations

# The stored search column is generated from this function, which must be IMMUTABLE
# (array_to_string is only STABLE, hence the wrapper). Title outweighs abstract,
# which outweighs author names; names are not stemmed.
SEARCH_VECTOR_FUNCTION = """
CREATE OR REPLACE FUNCTION paperfeed_search_vector(title text, abstract text, authors text[])
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
      || setweight(to_tsvector('english'::regconfig, coalesce(abstract, '')), 'B')
      || setweight(to_tsvector('simple'::regconfig, coalesce(array_to_string(authors, ' '), '')), 'C')
$$;
"""


class Migration(migrations.Migration):
    operations = [
        migrations.RunSQL(
            SEARCH_VECTOR_FUNCTION,
            reverse_sql="DROP FUNCTION IF EXISTS paperfeed_search_vector(text, text, text[])",
        ),
    ]
