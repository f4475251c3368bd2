using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AuthServer.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AdminPages : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "WrongNumber",
                table: "DeviceAuthorizations",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "ActorId",
                table: "AuditEvents",
                type: "TEXT",
                maxLength: 450,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ActorName",
                table: "AuditEvents",
                type: "TEXT",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Ip",
                table: "AuditEvents",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_ActorId",
                table: "AuditEvents",
                column: "ActorId");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_ClientId",
                table: "AuditEvents",
                column: "ClientId");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_Type_At",
                table: "AuditEvents",
                columns: new[] { "Type", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_UserId",
                table: "AuditEvents",
                column: "UserId");

            // A login request's scan and decision are single hand-written statements on the hot path
            // (DeviceAuthorizationSql); the audit event is written by the database in the same statement, so it
            // commits with the transition and costs no extra round trip. The types are those of AuthServer.Data.Audit,
            // and the times are the transition's own (ScannedAt, DecidedAt: the server's clock).
            migrationBuilder.Sql("""
                CREATE TRIGGER "AuditLoginRequestTransitions"
                AFTER UPDATE OF "Status" ON "DeviceAuthorizations"
                FOR EACH ROW WHEN NEW."Status" <> OLD."Status" AND NEW."Status" IN ('Scanned', 'Approved', 'Denied')
                BEGIN
                    INSERT INTO "AuditEvents" ("At", "Type", "UserId", "ClientId", "Detail")
                    VALUES (
                        CASE NEW."Status" WHEN 'Scanned' THEN NEW."ScannedAt" ELSE NEW."DecidedAt" END,
                        CASE
                            WHEN NEW."Status" = 'Scanned' THEN 'login_request.scanned'
                            WHEN NEW."Status" = 'Approved' THEN 'login_request.approved'
                            WHEN NEW."WrongNumber" THEN 'login_request.number_mismatch'
                            ELSE 'login_request.denied'
                        END,
                        NEW."SubjectId",
                        NEW."ClientId",
                        'Login request ' || NEW."Id" || ' of ' || COALESCE(NEW."DeviceName", NEW."ClientId")
                            || ' (waiting screen at ' || COALESCE(NEW."RequesterIp", 'an unknown address') || ').');
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS \"AuditLoginRequestTransitions\";");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_ActorId",
                table: "AuditEvents");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_ClientId",
                table: "AuditEvents");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_Type_At",
                table: "AuditEvents");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_UserId",
                table: "AuditEvents");

            migrationBuilder.DropColumn(
                name: "WrongNumber",
                table: "DeviceAuthorizations");

            migrationBuilder.DropColumn(
                name: "ActorId",
                table: "AuditEvents");

            migrationBuilder.DropColumn(
                name: "ActorName",
                table: "AuditEvents");

            migrationBuilder.DropColumn(
                name: "Ip",
                table: "AuditEvents");
        }
    }
}
