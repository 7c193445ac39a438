"""RothC v2.0.0 around the kernels (``kernels.rothc``).

- ``job``: ``socobs rothc run``: sequestration-potential maps from the cube (GSOCseq scenarios);
- ``site``: ``socobs rothc site``: official RothC input files in, official results out.
"""
