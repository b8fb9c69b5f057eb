"""Road maps as code: the model, the YAML loader with positions, and the schema."""

from cvid.roadmap.loader import digest, from_json, load, loads, schema, to_json
from cvid.roadmap.model import RoadMap

__all__ = ["RoadMap", "digest", "from_json", "load", "loads", "schema", "to_json"]
