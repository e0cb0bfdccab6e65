-- Bulk ingest builds the passages' vector index once, after loading, instead of growing it passage by passage:
-- pgvector inserted 10,000 passages into the graph in ~33 s (each insert searches the graph and rewrites its
-- neighbours' pages), and builds the graph of the same 10,000 in ~3 s. The ingest drops the index, loads, and calls
-- this; every ingest calls it first too, so an ingest that was killed in between leaves the index missing (searches
-- stay exact, only slower) until the next one. The definition is 0006's; a migration that changes the index
-- replaces this function with it.
CREATE FUNCTION knowledge_embedding_index_ensure() RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    CREATE INDEX IF NOT EXISTS knowledge_chunks_embedding_idx ON knowledge_chunks USING hnsw (embedding vector_cosine_ops);
END
$$;
