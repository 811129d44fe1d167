// Generated from proto/ by `npm run proto` (scripts/proto-descriptor.ts). Do not edit.
import type { INamespace } from 'protobufjs';

// protobufjs's INamespace typing requires fields (`comment`) that its own toJSON leaves out.
export const DESCRIPTOR = {
  "nested": {
    "containerd": {
      "nested": {
        "services": {
          "nested": {
            "version": {
              "nested": {
                "v1": {
                  "nested": {
                    "Version": {
                      "methods": {
                        "Version": {
                          "requestType": "google.protobuf.Empty",
                          "responseType": "VersionResponse"
                        }
                      }
                    },
                    "VersionResponse": {
                      "fields": {
                        "version": {
                          "type": "string",
                          "id": 1
                        },
                        "revision": {
                          "type": "string",
                          "id": 2
                        }
                      }
                    }
                  }
                }
              }
            },
            "introspection": {
              "nested": {
                "v1": {
                  "nested": {
                    "Introspection": {
                      "methods": {
                        "Plugins": {
                          "requestType": "PluginsRequest",
                          "responseType": "PluginsResponse"
                        },
                        "Server": {
                          "requestType": "google.protobuf.Empty",
                          "responseType": "ServerResponse"
                        }
                      }
                    },
                    "Plugin": {
                      "fields": {
                        "type": {
                          "type": "string",
                          "id": 1
                        },
                        "id": {
                          "type": "string",
                          "id": 2
                        },
                        "requires": {
                          "rule": "repeated",
                          "type": "string",
                          "id": 3
                        },
                        "platforms": {
                          "rule": "repeated",
                          "type": "containerd.types.Platform",
                          "id": 4
                        },
                        "exports": {
                          "keyType": "string",
                          "type": "string",
                          "id": 5
                        },
                        "capabilities": {
                          "rule": "repeated",
                          "type": "string",
                          "id": 6
                        },
                        "init_err": {
                          "type": "google.rpc.Status",
                          "id": 7
                        }
                      }
                    },
                    "PluginsRequest": {
                      "fields": {
                        "filters": {
                          "rule": "repeated",
                          "type": "string",
                          "id": 1
                        }
                      }
                    },
                    "PluginsResponse": {
                      "fields": {
                        "plugins": {
                          "rule": "repeated",
                          "type": "Plugin",
                          "id": 1
                        }
                      }
                    },
                    "ServerResponse": {
                      "fields": {
                        "uuid": {
                          "type": "string",
                          "id": 1
                        },
                        "pid": {
                          "type": "uint64",
                          "id": 2
                        },
                        "pidns": {
                          "type": "uint64",
                          "id": 3
                        }
                      }
                    }
                  }
                }
              }
            },
            "namespaces": {
              "nested": {
                "v1": {
                  "nested": {
                    "Namespaces": {
                      "methods": {
                        "List": {
                          "requestType": "ListNamespacesRequest",
                          "responseType": "ListNamespacesResponse"
                        },
                        "Delete": {
                          "requestType": "DeleteNamespaceRequest",
                          "responseType": "google.protobuf.Empty"
                        }
                      }
                    },
                    "Namespace": {
                      "fields": {
                        "name": {
                          "type": "string",
                          "id": 1
                        },
                        "labels": {
                          "keyType": "string",
                          "type": "string",
                          "id": 2
                        }
                      }
                    },
                    "ListNamespacesRequest": {
                      "fields": {
                        "filter": {
                          "type": "string",
                          "id": 1
                        }
                      }
                    },
                    "ListNamespacesResponse": {
                      "fields": {
                        "namespaces": {
                          "rule": "repeated",
                          "type": "Namespace",
                          "id": 1
                        }
                      }
                    },
                    "DeleteNamespaceRequest": {
                      "fields": {
                        "name": {
                          "type": "string",
                          "id": 1
                        }
                      }
                    }
                  }
                }
              }
            },
            "containers": {
              "nested": {
                "v1": {
                  "nested": {
                    "Containers": {
                      "methods": {
                        "Get": {
                          "requestType": "GetContainerRequest",
                          "responseType": "GetContainerResponse"
                        },
                        "List": {
                          "requestType": "ListContainersRequest",
                          "responseType": "ListContainersResponse"
                        },
                        "ListStream": {
                          "requestType": "ListContainersRequest",
                          "responseType": "ListContainerMessage",
                          "responseStream": true
                        },
                        "Delete": {
                          "requestType": "DeleteContainerRequest",
                          "responseType": "google.protobuf.Empty"
                        }
                      }
                    },
                    "Container": {
                      "fields": {
                        "id": {
                          "type": "string",
                          "id": 1
                        },
                        "labels": {
                          "keyType": "string",
                          "type": "string",
                          "id": 2
                        },
                        "image": {
                          "type": "string",
                          "id": 3
                        },
                        "runtime": {
                          "type": "Runtime",
                          "id": 4
                        },
                        "snapshotter": {
                          "type": "string",
                          "id": 6
                        },
                        "snapshot_key": {
                          "type": "string",
                          "id": 7
                        },
                        "created_at": {
                          "type": "google.protobuf.Timestamp",
                          "id": 8
                        },
                        "updated_at": {
                          "type": "google.protobuf.Timestamp",
                          "id": 9
                        },
                        "sandbox": {
                          "type": "string",
                          "id": 11
                        }
                      },
                      "nested": {
                        "Runtime": {
                          "fields": {
                            "name": {
                              "type": "string",
                              "id": 1
                            },
                            "options": {
                              "type": "google.protobuf.Any",
                              "id": 2
                            }
                          }
                        }
                      }
                    },
                    "GetContainerRequest": {
                      "fields": {
                        "id": {
                          "type": "string",
                          "id": 1
                        }
                      }
                    },
                    "GetContainerResponse": {
                      "fields": {
                        "container": {
                          "type": "Container",
                          "id": 1
                        }
                      }
                    },
                    "ListContainersRequest": {
                      "fields": {
                        "filters": {
                          "rule": "repeated",
                          "type": "string",
                          "id": 1
                        }
                      }
                    },
                    "ListContainersResponse": {
                      "fields": {
                        "containers": {
                          "rule": "repeated",
                          "type": "Container",
                          "id": 1
                        }
                      }
                    },
                    "ListContainerMessage": {
                      "fields": {
                        "container": {
                          "type": "Container",
                          "id": 1
                        }
                      }
                    },
                    "DeleteContainerRequest": {
                      "fields": {
                        "id": {
                          "type": "string",
                          "id": 1
                        }
                      }
                    }
                  }
                }
              }
            },
            "tasks": {
              "nested": {
                "v1": {
                  "nested": {
                    "Tasks": {
                      "methods": {
                        "Get": {
                          "requestType": "GetRequest",
                          "responseType": "GetResponse"
                        },
                        "List": {
                          "requestType": "ListTasksRequest",
                          "responseType": "ListTasksResponse"
                        }
                      }
                    },
                    "GetRequest": {
                      "fields": {
                        "container_id": {
                          "type": "string",
                          "id": 1
                        },
                        "exec_id": {
                          "type": "string",
                          "id": 2
                        }
                      }
                    },
                    "GetResponse": {
                      "fields": {
                        "process": {
                          "type": "containerd.v1.types.Process",
                          "id": 1
                        }
                      }
                    },
                    "ListTasksRequest": {
                      "fields": {
                        "filter": {
                          "type": "string",
                          "id": 1
                        }
                      }
                    },
                    "ListTasksResponse": {
                      "fields": {
                        "tasks": {
                          "rule": "repeated",
                          "type": "containerd.v1.types.Process",
                          "id": 1
                        }
                      }
                    }
                  }
                }
              }
            },
            "snapshots": {
              "nested": {
                "v1": {
                  "nested": {
                    "Snapshots": {
                      "methods": {
                        "Prepare": {
                          "requestType": "PrepareSnapshotRequest",
                          "responseType": "PrepareSnapshotResponse"
                        },
                        "View": {
                          "requestType": "ViewSnapshotRequest",
                          "responseType": "ViewSnapshotResponse"
                        },
                        "Mounts": {
                          "requestType": "MountsRequest",
                          "responseType": "MountsResponse"
                        },
                        "Commit": {
                          "requestType": "CommitSnapshotRequest",
                          "responseType": "google.protobuf.Empty"
                        },
                        "Remove": {
                          "requestType": "RemoveSnapshotRequest",
                          "responseType": "google.protobuf.Empty"
                        },
                        "Stat": {
                          "requestType": "StatSnapshotRequest",
                          "responseType": "StatSnapshotResponse"
                        },
                        "List": {
                          "requestType": "ListSnapshotsRequest",
                          "responseType": "ListSnapshotsResponse",
                          "responseStream": true
                        },
                        "Usage": {
                          "requestType": "UsageRequest",
                          "responseType": "UsageResponse"
                        }
                      }
                    },
                    "Kind": {
                      "values": {
                        "UNKNOWN": 0,
                        "VIEW": 1,
                        "ACTIVE": 2,
                        "COMMITTED": 3
                      }
                    },
                    "Info": {
                      "fields": {
                        "name": {
                          "type": "string",
                          "id": 1
                        },
                        "parent": {
                          "type": "string",
                          "id": 2
                        },
                        "kind": {
                          "type": "Kind",
                          "id": 3
                        },
                        "created_at": {
                          "type": "google.protobuf.Timestamp",
                          "id": 4
                        },
                        "updated_at": {
                          "type": "google.protobuf.Timestamp",
                          "id": 5
                        },
                        "labels": {
                          "keyType": "string",
                          "type": "string",
                          "id": 6
                        }
                      }
                    },
                    "PrepareSnapshotRequest": {
                      "fields": {
                        "snapshotter": {
                          "type": "string",
                          "id": 1
                        },
                        "key": {
                          "type": "string",
                          "id": 2
                        },
                        "parent": {
                          "type": "string",
                          "id": 3
                        },
                        "labels": {
                          "keyType": "string",
                          "type": "string",
                          "id": 4
                        }
                      }
                    },
                    "PrepareSnapshotResponse": {
                      "fields": {
                        "mounts": {
                          "rule": "repeated",
                          "type": "containerd.types.Mount",
                          "id": 1
                        }
                      }
                    },
                    "ViewSnapshotRequest": {
                      "fields": {
                        "snapshotter": {
                          "type": "string",
                          "id": 1
                        },
                        "key": {
                          "type": "string",
                          "id": 2
                        },
                        "parent": {
                          "type": "string",
                          "id": 3
                        },
                        "labels": {
                          "keyType": "string",
                          "type": "string",
                          "id": 4
                        }
                      }
                    },
                    "ViewSnapshotResponse": {
                      "fields": {
                        "mounts": {
                          "rule": "repeated",
                          "type": "containerd.types.Mount",
                          "id": 1
                        }
                      }
                    },
                    "MountsRequest": {
                      "fields": {
                        "snapshotter": {
                          "type": "string",
                          "id": 1
                        },
                        "key": {
                          "type": "string",
                          "id": 2
                        }
                      }
                    },
                    "MountsResponse": {
                      "fields": {
                        "mounts": {
                          "rule": "repeated",
                          "type": "containerd.types.Mount",
                          "id": 1
                        }
                      }
                    },
                    "RemoveSnapshotRequest": {
                      "fields": {
                        "snapshotter": {
                          "type": "string",
                          "id": 1
                        },
                        "key": {
                          "type": "string",
                          "id": 2
                        }
                      }
                    },
                    "CommitSnapshotRequest": {
                      "fields": {
                        "snapshotter": {
                          "type": "string",
                          "id": 1
                        },
                        "name": {
                          "type": "string",
                          "id": 2
                        },
                        "key": {
                          "type": "string",
                          "id": 3
                        },
                        "labels": {
                          "keyType": "string",
                          "type": "string",
                          "id": 4
                        }
                      }
                    },
                    "StatSnapshotRequest": {
                      "fields": {
                        "snapshotter": {
                          "type": "string",
                          "id": 1
                        },
                        "key": {
                          "type": "string",
                          "id": 2
                        }
                      }
                    },
                    "StatSnapshotResponse": {
                      "fields": {
                        "info": {
                          "type": "Info",
                          "id": 1
                        }
                      }
                    },
                    "ListSnapshotsRequest": {
                      "fields": {
                        "snapshotter": {
                          "type": "string",
                          "id": 1
                        },
                        "filters": {
                          "rule": "repeated",
                          "type": "string",
                          "id": 2
                        }
                      }
                    },
                    "ListSnapshotsResponse": {
                      "fields": {
                        "info": {
                          "rule": "repeated",
                          "type": "Info",
                          "id": 1
                        }
                      }
                    },
                    "UsageRequest": {
                      "fields": {
                        "snapshotter": {
                          "type": "string",
                          "id": 1
                        },
                        "key": {
                          "type": "string",
                          "id": 2
                        }
                      }
                    },
                    "UsageResponse": {
                      "fields": {
                        "size": {
                          "type": "int64",
                          "id": 1
                        },
                        "inodes": {
                          "type": "int64",
                          "id": 2
                        }
                      }
                    }
                  }
                }
              }
            },
            "images": {
              "nested": {
                "v1": {
                  "nested": {
                    "Images": {
                      "methods": {
                        "Get": {
                          "requestType": "GetImageRequest",
                          "responseType": "GetImageResponse"
                        },
                        "List": {
                          "requestType": "ListImagesRequest",
                          "responseType": "ListImagesResponse"
                        },
                        "Delete": {
                          "requestType": "DeleteImageRequest",
                          "responseType": "google.protobuf.Empty"
                        }
                      }
                    },
                    "Image": {
                      "fields": {
                        "name": {
                          "type": "string",
                          "id": 1
                        },
                        "labels": {
                          "keyType": "string",
                          "type": "string",
                          "id": 2
                        },
                        "target": {
                          "type": "containerd.types.Descriptor",
                          "id": 3
                        },
                        "created_at": {
                          "type": "google.protobuf.Timestamp",
                          "id": 7
                        },
                        "updated_at": {
                          "type": "google.protobuf.Timestamp",
                          "id": 8
                        }
                      }
                    },
                    "GetImageRequest": {
                      "fields": {
                        "name": {
                          "type": "string",
                          "id": 1
                        }
                      }
                    },
                    "GetImageResponse": {
                      "fields": {
                        "image": {
                          "type": "Image",
                          "id": 1
                        }
                      }
                    },
                    "ListImagesRequest": {
                      "fields": {
                        "filters": {
                          "rule": "repeated",
                          "type": "string",
                          "id": 1
                        }
                      }
                    },
                    "ListImagesResponse": {
                      "fields": {
                        "images": {
                          "rule": "repeated",
                          "type": "Image",
                          "id": 1
                        }
                      }
                    },
                    "DeleteImageRequest": {
                      "fields": {
                        "name": {
                          "type": "string",
                          "id": 1
                        },
                        "sync": {
                          "type": "bool",
                          "id": 2
                        }
                      }
                    }
                  }
                }
              }
            },
            "content": {
              "nested": {
                "v1": {
                  "nested": {
                    "Content": {
                      "methods": {
                        "Info": {
                          "requestType": "InfoRequest",
                          "responseType": "InfoResponse"
                        },
                        "Read": {
                          "requestType": "ReadContentRequest",
                          "responseType": "ReadContentResponse",
                          "responseStream": true
                        }
                      }
                    },
                    "Info": {
                      "fields": {
                        "digest": {
                          "type": "string",
                          "id": 1
                        },
                        "size": {
                          "type": "int64",
                          "id": 2
                        },
                        "created_at": {
                          "type": "google.protobuf.Timestamp",
                          "id": 3
                        },
                        "updated_at": {
                          "type": "google.protobuf.Timestamp",
                          "id": 4
                        },
                        "labels": {
                          "keyType": "string",
                          "type": "string",
                          "id": 5
                        }
                      }
                    },
                    "InfoRequest": {
                      "fields": {
                        "digest": {
                          "type": "string",
                          "id": 1
                        }
                      }
                    },
                    "InfoResponse": {
                      "fields": {
                        "info": {
                          "type": "Info",
                          "id": 1
                        }
                      }
                    },
                    "ReadContentRequest": {
                      "fields": {
                        "digest": {
                          "type": "string",
                          "id": 1
                        },
                        "offset": {
                          "type": "int64",
                          "id": 2
                        },
                        "size": {
                          "type": "int64",
                          "id": 3
                        }
                      }
                    },
                    "ReadContentResponse": {
                      "fields": {
                        "offset": {
                          "type": "int64",
                          "id": 1
                        },
                        "data": {
                          "type": "bytes",
                          "id": 2
                        }
                      }
                    }
                  }
                }
              }
            },
            "leases": {
              "nested": {
                "v1": {
                  "nested": {
                    "Leases": {
                      "methods": {
                        "Create": {
                          "requestType": "CreateRequest",
                          "responseType": "CreateResponse"
                        },
                        "AddResource": {
                          "requestType": "AddResourceRequest",
                          "responseType": "google.protobuf.Empty"
                        },
                        "Delete": {
                          "requestType": "DeleteRequest",
                          "responseType": "google.protobuf.Empty"
                        },
                        "List": {
                          "requestType": "ListRequest",
                          "responseType": "ListResponse"
                        },
                        "ListResources": {
                          "requestType": "ListResourcesRequest",
                          "responseType": "ListResourcesResponse"
                        }
                      }
                    },
                    "Lease": {
                      "fields": {
                        "id": {
                          "type": "string",
                          "id": 1
                        },
                        "created_at": {
                          "type": "google.protobuf.Timestamp",
                          "id": 2
                        },
                        "labels": {
                          "keyType": "string",
                          "type": "string",
                          "id": 3
                        }
                      }
                    },
                    "DeleteRequest": {
                      "fields": {
                        "id": {
                          "type": "string",
                          "id": 1
                        },
                        "sync": {
                          "type": "bool",
                          "id": 2
                        }
                      }
                    },
                    "ListRequest": {
                      "fields": {
                        "filters": {
                          "rule": "repeated",
                          "type": "string",
                          "id": 1
                        }
                      }
                    },
                    "ListResponse": {
                      "fields": {
                        "leases": {
                          "rule": "repeated",
                          "type": "Lease",
                          "id": 1
                        }
                      }
                    },
                    "Resource": {
                      "fields": {
                        "id": {
                          "type": "string",
                          "id": 1
                        },
                        "type": {
                          "type": "string",
                          "id": 2
                        }
                      }
                    },
                    "ListResourcesRequest": {
                      "fields": {
                        "id": {
                          "type": "string",
                          "id": 1
                        }
                      }
                    },
                    "ListResourcesResponse": {
                      "fields": {
                        "resources": {
                          "rule": "repeated",
                          "type": "Resource",
                          "id": 1
                        }
                      }
                    },
                    "CreateRequest": {
                      "fields": {
                        "id": {
                          "type": "string",
                          "id": 1
                        },
                        "labels": {
                          "keyType": "string",
                          "type": "string",
                          "id": 3
                        }
                      }
                    },
                    "CreateResponse": {
                      "fields": {
                        "lease": {
                          "type": "Lease",
                          "id": 1
                        }
                      }
                    },
                    "AddResourceRequest": {
                      "fields": {
                        "id": {
                          "type": "string",
                          "id": 1
                        },
                        "resource": {
                          "type": "Resource",
                          "id": 2
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        },
        "types": {
          "nested": {
            "Mount": {
              "fields": {
                "type": {
                  "type": "string",
                  "id": 1
                },
                "source": {
                  "type": "string",
                  "id": 2
                },
                "target": {
                  "type": "string",
                  "id": 3
                },
                "options": {
                  "rule": "repeated",
                  "type": "string",
                  "id": 4
                }
              }
            },
            "Descriptor": {
              "fields": {
                "media_type": {
                  "type": "string",
                  "id": 1
                },
                "digest": {
                  "type": "string",
                  "id": 2
                },
                "size": {
                  "type": "int64",
                  "id": 3
                },
                "annotations": {
                  "keyType": "string",
                  "type": "string",
                  "id": 5
                }
              }
            },
            "Platform": {
              "fields": {
                "os": {
                  "type": "string",
                  "id": 1
                },
                "architecture": {
                  "type": "string",
                  "id": 2
                },
                "variant": {
                  "type": "string",
                  "id": 3
                }
              }
            }
          }
        },
        "v1": {
          "nested": {
            "types": {
              "nested": {
                "Status": {
                  "values": {
                    "UNKNOWN": 0,
                    "CREATED": 1,
                    "RUNNING": 2,
                    "STOPPED": 3,
                    "PAUSED": 4,
                    "PAUSING": 5
                  }
                },
                "Process": {
                  "fields": {
                    "container_id": {
                      "type": "string",
                      "id": 1
                    },
                    "id": {
                      "type": "string",
                      "id": 2
                    },
                    "pid": {
                      "type": "uint32",
                      "id": 3
                    },
                    "status": {
                      "type": "Status",
                      "id": 4
                    },
                    "stdin": {
                      "type": "string",
                      "id": 5
                    },
                    "stdout": {
                      "type": "string",
                      "id": 6
                    },
                    "stderr": {
                      "type": "string",
                      "id": 7
                    },
                    "terminal": {
                      "type": "bool",
                      "id": 8
                    },
                    "exit_status": {
                      "type": "uint32",
                      "id": 9
                    },
                    "exited_at": {
                      "type": "google.protobuf.Timestamp",
                      "id": 10
                    }
                  }
                }
              }
            }
          }
        }
      }
    },
    "google": {
      "nested": {
        "protobuf": {
          "nested": {
            "Empty": {
              "fields": {}
            },
            "Any": {
              "fields": {
                "type_url": {
                  "type": "string",
                  "id": 1
                },
                "value": {
                  "type": "bytes",
                  "id": 2
                }
              }
            },
            "Timestamp": {
              "fields": {
                "seconds": {
                  "type": "int64",
                  "id": 1
                },
                "nanos": {
                  "type": "int32",
                  "id": 2
                }
              }
            }
          }
        },
        "rpc": {
          "nested": {
            "Status": {
              "fields": {
                "code": {
                  "type": "int32",
                  "id": 1
                },
                "message": {
                  "type": "string",
                  "id": 2
                },
                "details": {
                  "rule": "repeated",
                  "type": "google.protobuf.Any",
                  "id": 3
                }
              }
            }
          }
        }
      }
    },
    "runtime": {
      "nested": {
        "v1": {
          "nested": {
            "RuntimeService": {
              "methods": {
                "Status": {
                  "requestType": "StatusRequest",
                  "responseType": "StatusResponse"
                }
              }
            },
            "StatusRequest": {
              "fields": {
                "verbose": {
                  "type": "bool",
                  "id": 1
                }
              }
            },
            "RuntimeCondition": {
              "fields": {
                "type": {
                  "type": "string",
                  "id": 1
                },
                "status": {
                  "type": "bool",
                  "id": 2
                },
                "reason": {
                  "type": "string",
                  "id": 3
                },
                "message": {
                  "type": "string",
                  "id": 4
                }
              }
            },
            "RuntimeStatus": {
              "fields": {
                "conditions": {
                  "rule": "repeated",
                  "type": "RuntimeCondition",
                  "id": 1
                }
              }
            },
            "RuntimeHandler": {
              "fields": {
                "name": {
                  "type": "string",
                  "id": 1
                }
              }
            },
            "StatusResponse": {
              "fields": {
                "status": {
                  "type": "RuntimeStatus",
                  "id": 1
                },
                "info": {
                  "keyType": "string",
                  "type": "string",
                  "id": 2
                },
                "runtime_handlers": {
                  "rule": "repeated",
                  "type": "RuntimeHandler",
                  "id": 3
                }
              }
            }
          }
        }
      }
    }
  }
} as unknown as INamespace;
