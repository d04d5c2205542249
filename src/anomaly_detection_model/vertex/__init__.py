"""Google Cloud side of the model: gs:// artefact storage, the KFP v2 pipeline, Vertex AI upload.

The only package of the unit that may import `google.*` and `kfp`; each import is lazy so
the rest of the model runs without the cloud libraries.
"""
