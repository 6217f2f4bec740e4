// Original file: protos/quotient/v1/cluster.proto


export interface WatchRequest {
}

export interface WatchRequest__Output {
}
