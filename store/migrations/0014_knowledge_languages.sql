-- The help center in the customers' languages: every passage carries its language, and its full-text vector
-- is built with that language's configuration (stemming and stop words of Spanish, German, Russian, French;
-- 'simple' for Hebrew, which PostgreSQL cannot stem). Search parses the query with the same configuration.

-- One home for the language -> configuration mapping on the database side (schemas/languages.py holds the same
-- list for Python). IMMUTABLE so that it can feed a generated column and an index; unknown codes read as English.
CREATE FUNCTION knowledge_ts_config(language text) RETURNS regconfig
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE language
        WHEN 'es' THEN 'spanish'::regconfig
        WHEN 'de' THEN 'german'::regconfig
        WHEN 'ru' THEN 'russian'::regconfig
        WHEN 'fr' THEN 'french'::regconfig
        WHEN 'he' THEN 'simple'::regconfig
        ELSE 'english'::regconfig
    END;

ALTER TABLE knowledge_chunks ADD COLUMN language text NOT NULL DEFAULT 'en' CHECK (language ~ '^[a-z]{2}$');
ALTER TABLE knowledge_chunks DROP COLUMN tsv;  -- drops knowledge_chunks_tsv_idx with it
ALTER TABLE knowledge_chunks ADD COLUMN tsv tsvector
    GENERATED ALWAYS AS (to_tsvector(knowledge_ts_config(language), title || ' ' || content)) STORED;
CREATE INDEX knowledge_chunks_tsv_idx ON knowledge_chunks USING gin (tsv);
CREATE INDEX knowledge_chunks_namespace_language_idx ON knowledge_chunks (namespace, language);
