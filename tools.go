//go:build tools

package tools
import (
 _ "github.com/gofiber/fiber/v2"
 _ "github.com/gofiber/contrib/websocket"
 _ "gorm.io/gorm"
 _ "gorm.io/driver/postgres"
 _ "github.com/robfig/cron/v3"
 _ "github.com/nyaruka/phonenumbers"
 _ "github.com/xuri/excelize/v2"
 _ "golang.org/x/crypto/argon2"
 _ "github.com/prometheus/client_golang/prometheus"
 _ "github.com/gorilla/websocket"
 _ "github.com/google/uuid"
)

