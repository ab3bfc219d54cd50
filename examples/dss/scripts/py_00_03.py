df = spark.sql("select count(1) from ods.py_00_03")
df.show()
