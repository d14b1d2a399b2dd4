using System.Diagnostics;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Postgres;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Recovery.Tests.Restores;

/// <summary>The restore that streams the archive into parallel COPY sessions, and the pg_restore path it falls back to.</summary>
public sealed class StreamingRestoreTests
{
    [Fact]
    public async Task Reader_finds_every_table_and_row_of_a_pg_dump_archive_and_refuses_compressed_ones()
    {
        await using var database = await Sample.UsersAsync(1500);
        using var dir = new TempDirectory();
        var plain = Path.Combine(dir.Path, "plain.dump");
        var compressed = Path.Combine(dir.Path, "compressed.dump");
        await PgDumpAsync(database, "-Z0", plain);
        await PgDumpAsync(database, "-Z6", compressed);

        await using (var file = File.OpenRead(plain))
        {
            var reader = new ArchiveReader(file);
            var toc = await reader.ReadTocAsync(default);
            Assert.Null(toc.Unstreamable);
            var users = Assert.Single(toc.Entries, e => e.IsTableData && e.Tag == "users");
            Assert.StartsWith("COPY public.users", users.CopyStatement, StringComparison.Ordinal);
            var rows = 0L;
            while (await reader.NextBlockAsync(default) is { } id)
            {
                var buffer = new byte[1 << 20];
                int length;
                while ((length = await reader.ChunkLengthAsync(default)) > 0)
                {
                    await reader.ReadExactlyAsync(buffer.AsMemory(0, length), default);
                    var chunk = buffer.AsSpan(0, length);
                    rows += id == users.DumpId && !ArchiveReader.IsEndOfCopyMarker(chunk) ? chunk.Count((byte)'\n') : 0;
                }
            }
            Assert.Equal(await database.ScalarAsync<long>("SELECT count(*) FROM users"), rows);
            Assert.Equal(new FileInfo(plain).Length, reader.Consumed);
        }
        await using (var file = File.OpenRead(compressed))
        {
            var toc = await new ArchiveReader(file).ReadTocAsync(default);
            Assert.Contains("compressed", toc.Unstreamable, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Damage_behind_a_checksum_claimed_proven_is_still_caught_and_the_database_is_left_to_drop()
    {
        await using var database = await Sample.UsersAsync(20000);
        using var dir = new TempDirectory();
        await using var engine = Engine.Create(CliEnvironment.Settings(database, dir.Path));
        var backup = await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default);
        var catalog = engine.GetRequiredService<BackupCatalog>();
        var entry = await catalog.FindAsync(backup.Metadata.Name, default);
        var path = Path.Combine(dir.Path, backup.Metadata.Name);
        File.SetAttributes(path, FileAttributes.Normal);
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length - 10;
            var b = file.ReadByte();
            file.Position = file.Length - 10;
            file.WriteByte((byte)(b ^ 0x40));
        }

        await using var admin = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(database.Server, "postgres"), default);
        var restorer = engine.GetRequiredService<DatabaseRestorer>();
        var error = await Assert.ThrowsAnyAsync<RecoveryException>(() =>
            restorer.RestoreNewAsync(admin, database.Server, database.Name + "_streamed", new StoredBackup(catalog.Store, entry, ChecksumProven: true), default));
        Assert.Contains("checksum mismatch", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rows_larger_than_a_slice_and_rows_around_them_arrive_intact()
    {
        await using var database = await Sample.UsersAsync(30000);
        await database.ExecuteAsync("""
            CREATE TABLE attachments (id int PRIMARY KEY, body text NOT NULL);
            INSERT INTO attachments SELECT g, repeat(md5(g::text), CASE WHEN g % 50 = 0 THEN 100000 ELSE 3 END) FROM generate_series(1, 400) g;
            """);
        using var dir = new TempDirectory();
        await using var engine = Engine.Create(CliEnvironment.Settings(database, dir.Path));
        var backup = await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default);

        var target = database.Name + "_copy";
        await engine.GetRequiredService<RestoreRunner>().RunAsync(new RestoreRequest(backup.Metadata.Name, target), null, default);

        const string digest = "SELECT md5(string_agg(id || ':' || body, ',' ORDER BY id)) FROM attachments";
        await using var copy = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(database.Server, target), default);
        await using var command = new Npgsql.NpgsqlCommand(digest, copy);
        Assert.Equal(await database.ScalarAsync<string>(digest), await command.ExecuteScalarAsync());
        Assert.Equal((await database.FactsAsync()).Tables, (await TestDatabase.FactsOf(database.Server, target)).Tables);
    }

    [Fact]
    public async Task Archive_the_stream_cannot_carry_large_objects_is_restored_through_pg_restore()
    {
        await using var database = await Sample.UsersAsync(100);
        await database.ExecuteAsync("CREATE TABLE documents (id int PRIMARY KEY, body oid); INSERT INTO documents VALUES (1, lo_from_bytea(0, 'scanned contract'::bytea))");
        using var dir = new TempDirectory();
        await using var engine = Engine.Create(CliEnvironment.Settings(database, dir.Path));
        var backup = await engine.GetRequiredService<FullBackupRunner>().RunAsync(null, default);

        var target = database.Name + "_copy";
        await engine.GetRequiredService<RestoreRunner>().RunAsync(new RestoreRequest(backup.Metadata.Name, target), null, default);

        await using var copy = await PgConnector.OpenAsync(DatabaseUrl.WithDatabase(database.Server, target), default);
        await using var command = new Npgsql.NpgsqlCommand("SELECT convert_from(lo_get(body), 'UTF8') FROM documents WHERE id = 1", copy);
        Assert.Equal("scanned contract", await command.ExecuteScalarAsync());
        Assert.Equal((await database.FactsAsync()).Tables, (await TestDatabase.FactsOf(database.Server, target)).Tables);
    }

    private static async Task PgDumpAsync(TestDatabase database, string compression, string output)
    {
        var info = new ProcessStartInfo("pg_dump") { RedirectStandardError = true };
        foreach (var arg in new[] { "-Fc", compression, "-f", output, "-d", database.Name })
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["PGHOST"] = database.Server.Host;
        info.Environment["PGPORT"] = database.Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["PGUSER"] = database.Server.Username;
        info.Environment["PGPASSWORD"] = database.Server.Password;
        using var process = Process.Start(info)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, stderr);
    }
}
