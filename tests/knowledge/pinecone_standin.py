"""A local stand-in for the Pinecone data plane (REST, API version 2025-10), from Pinecone's API reference.

Implements what PineconeStore uses: upsert, query (cosine), delete by ids, describe_index_stats; the
Api-Key header is required. Requests it does not understand are answered 400, as Pinecone does.
"""

from __future__ import annotations

import math
from collections import defaultdict

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class PineconeStandIn:
    def __init__(self, api_key: str, dimension: int) -> None:
        self.api_key = api_key
        self.dimension = dimension
        self.namespaces: dict[str, dict[str, dict]] = defaultdict(dict)
        self.requests: list[tuple[str, dict]] = []
        self.app = Starlette(routes=[
            Route("/vectors/upsert", self.upsert, methods=["POST"]),
            Route("/query", self.query, methods=["POST"]),
            Route("/vectors/delete", self.delete, methods=["POST"]),
            Route("/describe_index_stats", self.stats, methods=["POST", "GET"]),
        ])

    async def _body(self, request: Request) -> dict | JSONResponse:
        if request.headers.get("api-key") != self.api_key:
            return JSONResponse({"code": 16, "message": "Invalid API Key"}, status_code=401)
        body = await request.json() if request.method == "POST" else {}
        self.requests.append((request.url.path, body))
        return body

    @staticmethod
    def _error(message: str) -> JSONResponse:
        return JSONResponse({"code": 3, "message": message}, status_code=400)

    async def upsert(self, request: Request) -> JSONResponse:
        body = await self._body(request)
        if isinstance(body, JSONResponse):
            return body
        vectors = body.get("vectors")
        if not isinstance(vectors, list) or not vectors:
            return self._error("vectors must be a non-empty list")
        for vector in vectors:
            if len(vector.get("values", [])) != self.dimension:
                return self._error(f"Vector dimension {len(vector.get('values', []))} does not match the dimension "
                                   f"of the index {self.dimension}")
            self.namespaces[body.get("namespace", "")][vector["id"]] = vector
        return JSONResponse({"upsertedCount": len(vectors)})

    async def query(self, request: Request) -> JSONResponse:
        body = await self._body(request)
        if isinstance(body, JSONResponse):
            return body
        vector, top_k = body.get("vector"), body.get("topK")
        if not isinstance(vector, list) or not isinstance(top_k, int) or not 1 <= top_k <= 10_000:
            return self._error("query needs vector and topK between 1 and 10000")
        namespace = body.get("namespace", "")

        def cosine(values: list[float]) -> float:
            dot = sum(a * b for a, b in zip(values, vector, strict=True))
            norm = math.sqrt(sum(a * a for a in values)) * math.sqrt(sum(b * b for b in vector))
            return dot / norm if norm else 0.0

        scored = sorted(((cosine(v["values"]), vid) for vid, v in self.namespaces[namespace].items()), reverse=True)
        matches = [{"id": vid, "score": score, "values": []} for score, vid in scored[:top_k]]
        if body.get("includeMetadata"):
            for match in matches:
                match["metadata"] = self.namespaces[namespace][match["id"]].get("metadata", {})
        return JSONResponse({"matches": matches, "namespace": namespace, "usage": {"readUnits": 1}})

    async def delete(self, request: Request) -> JSONResponse:
        body = await self._body(request)
        if isinstance(body, JSONResponse):
            return body
        namespace = body.get("namespace", "")
        if body.get("deleteAll"):
            self.namespaces.pop(namespace, None)
        for vid in body.get("ids") or []:
            self.namespaces[namespace].pop(vid, None)
        return JSONResponse({})

    async def stats(self, request: Request) -> JSONResponse:
        body = await self._body(request)
        if isinstance(body, JSONResponse):
            return body
        counts = {ns: {"vectorCount": len(v)} for ns, v in self.namespaces.items() if v}
        return JSONResponse({"namespaces": counts, "dimension": self.dimension, "indexFullness": 0.0,
                             "totalVectorCount": sum(c["vectorCount"] for c in counts.values()), "metric": "cosine",
                             "vectorType": "dense"})
