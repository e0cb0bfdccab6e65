-- Knowledge for the agents: chunks of the FAQ and policy documents and the best past answers, with
-- their embeddings (pgvector; NULL when the vectors live in Pinecone) and a full-text index.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE knowledge_chunks (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    namespace    text NOT NULL CHECK (namespace ~ '^[a-z]+(_[a-z]+)*(/[a-z]+(_[a-z]+)*)?$'),
    source       text NOT NULL CHECK (length(source) BETWEEN 1 AND 500),
    chunk_index  integer NOT NULL CHECK (chunk_index >= 0),
    title        text NOT NULL DEFAULT '',
    content      text NOT NULL CHECK (length(content) BETWEEN 1 AND 20000),
    content_hash text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    metadata     jsonb NOT NULL DEFAULT '{}'::jsonb,
    embedding    vector(384),
    tsv          tsvector GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || content)) STORED,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (namespace, content_hash),
    UNIQUE (namespace, source, chunk_index)
);
CREATE INDEX knowledge_chunks_embedding_idx ON knowledge_chunks USING hnsw (embedding vector_cosine_ops);
CREATE INDEX knowledge_chunks_tsv_idx ON knowledge_chunks USING gin (tsv);
CREATE INDEX knowledge_chunks_namespace_idx ON knowledge_chunks (namespace);

-- What was ingested from where: a re-ingest of an unchanged file is skipped, a changed one replaces its chunks.
CREATE TABLE knowledge_sources (
    namespace   text NOT NULL,
    source      text NOT NULL,
    file_hash   text NOT NULL CHECK (file_hash ~ '^[0-9a-f]{64}$'),
    chunks      integer NOT NULL CHECK (chunks >= 0),
    ingested_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (namespace, source)
);
