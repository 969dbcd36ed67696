"""The data pipeline: curated CSV sources -> RDF (mapping, build) -> RDF I/O -> SHACL validation -> statistics and exports."""
