"""Monthly signals from the cube's NDVI (anomaly, bare-soil frequency, cumulative productivity):
the job (``pipeline.monthly.job``) and its tiles and region tables (``pipeline.monthly.tiles``)."""
