"""A read-only surface shaped like Civitai's public REST API v1, so Civitai clients can use this catalog by
changing the host. Field names, nesting and enum spellings follow Civitai's (see ../shared/corpus/FORMATS.md).

Ids are Civitai's where a row came from Civitai (mirror pages included: their version ids are Civitai's). A row
the catalog knows only from elsewhere (a mirror page with no model id, a HuggingFace repo) answers under the
negative of its catalog id, which can never collide with a Civitai id.
"""
