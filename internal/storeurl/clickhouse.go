package storeurl

import (
	"context"

	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/store/clickhouse"
)

// clickhouse://HOST:PORT/DB[?cluster=NAME&user=U&password=P] opens (creating
// its tables when missing) the ClickHouse store in database DB; with cluster,
// events go through a Distributed table over every shard of NAME.
func init() {
	register("clickhouse", func(ctx context.Context, url string) (store.Store, error) {
		s, err := clickhouse.Open(ctx, url)
		if err != nil {
			return nil, err
		}
		return s, nil
	})
}
