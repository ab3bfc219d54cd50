df = spark.sql("select count(1) from ods.py_05_04")
df.show()
