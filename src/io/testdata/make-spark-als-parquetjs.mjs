// Writes the tiny made-up Spark ALSModel directory spark-als-parquetjs/ with @dsnp/parquetjs 1.x (another Parquet
// writer than collab's hyparquet-writer), for the Spark import test. Run it in a scratch folder where that
// package is installed: node make-spark-als-parquetjs.mjs <dir>
import parquet from '@dsnp/parquetjs'
import { mkdirSync, writeFileSync } from 'node:fs'
const dir = process.argv[2]
const schema = new parquet.ParquetSchema({
  id: { type: 'INT32', compression: 'SNAPPY' },
  features: { type: 'LIST', optional: true, fields: { list: { repeated: true, fields: { element: { type: 'FLOAT', compression: 'SNAPPY' } } } } },
})
async function part(file, rows) {
  const w = await parquet.ParquetWriter.openFile(schema, file)
  for (const [id, f] of rows) await w.appendRow({ id, features: { list: f.map((element) => ({ element })) } })
  await w.close()
}
for (const d of ['metadata', 'userFactors', 'itemFactors']) { mkdirSync(`${dir}/${d}`, { recursive: true }); writeFileSync(`${dir}/${d}/_SUCCESS`, '') }
writeFileSync(`${dir}/metadata/part-00000`, JSON.stringify({ class: 'org.apache.spark.ml.recommendation.ALSModel', timestamp: 1733500000000, sparkVersion: '3.5.1', uid: 'ALS_6f2b1c9d0a3e', paramMap: { blockSize: 4096, predictionCol: 'prediction', coldStartStrategy: 'drop', itemCol: 'movieId', userCol: 'userId' }, defaultParamMap: { blockSize: 4096, predictionCol: 'prediction', coldStartStrategy: 'nan', itemCol: 'item', userCol: 'user' }, rank: 3 }) + '\n')
// users in two part files, out of id order, as Spark's tasks leave them
await part(`${dir}/userFactors/part-00000-0b7e3a52-5d3c-4c2e-9d1a-2f6c1e8a7b10-c000.snappy.parquet`, [[3, [0.5, -0.25, 1]], [1, [1.5, 0.75, -0.5]]])
await part(`${dir}/userFactors/part-00001-0b7e3a52-5d3c-4c2e-9d1a-2f6c1e8a7b10-c000.snappy.parquet`, [[2, [-1, 0.125, 0.375]]])
await part(`${dir}/itemFactors/part-00000-5c1d9e77-8a2b-4f10-b3c4-7d8e9f0a1b2c-c000.snappy.parquet`, [[104, [0.25, 0.5, 0.75]], [101, [1, 0, -1]], [102, [-0.5, 2, 0.25]], [103, [0.125, -0.375, 1.25]]])
