// The private Redis Cluster launcher lives in src/dev so that the benchmark
// can start one too.
export { RedisCluster, namespacesOnDistinctPrimaries, parseClusterNodes, type ClusterNodeInfo, type RedisClusterOptions } from '../../src/dev/redis-cluster.js';
