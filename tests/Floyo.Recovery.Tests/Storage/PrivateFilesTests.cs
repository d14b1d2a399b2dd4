using System.Diagnostics;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Restores;
using Floyo.Recovery.Storage;
using Floyo.Recovery.Tests.Support;
using Npgsql;

namespace Floyo.Recovery.Tests.Storage;

/// <summary>
/// Issue 10, item 12: backups hold the whole database, so the filesystem store keeps them from other users
/// whatever the umask, and restores refuse a work folder someone else made or can open.
/// </summary>
public sealed class PrivateFilesTests
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    [Fact]
    public async Task A_backup_under_an_open_umask_leaves_only_owner_only_files_and_folders()
    {
        await using var database = await Sample.UsersAsync(50);
        using var parent = new TempDirectory();
        var dir = Path.Combine(parent.Path, "backups");
        var run = await RunUnderUmaskAsync("000", CliEnvironment.For(database, dir), "backup", "--full", "--verify");
        Assert.True(run.ExitCode == 0, run.All);
        await new FilesystemStore(dir).SetLegalHoldAsync(Directory.GetFiles(dir, "*.meta.json").Single()[(dir.Length + 1)..], true, default);

        var files = Directory.GetFiles(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 });
        Assert.Contains(files, f => f.Contains("/verifications/", StringComparison.Ordinal));
        Assert.Contains(files, f => f.Contains("/.holds/", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var mode = File.GetUnixFileMode(file);
            var expected = file.Contains("/.locks/", StringComparison.Ordinal) || file.Contains("/.holds/", StringComparison.Ordinal)
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead;
            Assert.True(mode == expected, $"{file[(dir.Length + 1)..]} is {Convert.ToString((int)mode, 8)}");
        }
        foreach (var folder in Directory.GetDirectories(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).Append(dir))
        {
            var mode = File.GetUnixFileMode(folder);
            Assert.True(mode == OwnerOnlyFolder, $"{folder} is {Convert.ToString((int)mode, 8)}");
        }
    }

    [Fact]
    public void A_work_folder_others_can_write_into_is_refused_and_left_as_it_was()
    {
        using var parent = new TempDirectory();
        var work = Path.Combine(parent.Path, "work");
        Directory.CreateDirectory(work);
        var open = (UnixFileMode)Convert.ToInt32("777", 8);
        File.SetUnixFileMode(work, open);

        var error = Assert.ThrowsAny<RecoveryException>(() => WorkDirectory.Create(new DatabaseOptions { WorkDir = work }));
        Assert.Contains("writable by other users (mode 0777)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(open, File.GetUnixFileMode(work));
    }

    [Fact]
    public void A_work_folder_of_ours_that_others_could_only_read_is_closed_and_used()
    {
        // What an earlier floyo-dr left under the default umask: nothing foreign can be in it, so it is tightened, not refused.
        using var parent = new TempDirectory();
        var work = Path.Combine(parent.Path, "work");
        Directory.CreateDirectory(work);
        File.SetUnixFileMode(work, (UnixFileMode)Convert.ToInt32("755", 8));

        Assert.Equal(work, WorkDirectory.Create(new DatabaseOptions { WorkDir = work }));
        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(work));
    }

    [Fact]
    public void A_work_folder_someone_else_created_first_is_refused()
    {
        if (Environment.UserName != "root")
        {
            return; // giving a folder to another user needs root (the CI runs as root)
        }
        using var parent = new TempDirectory();
        var work = Path.Combine(parent.Path, "work");
        Directory.CreateDirectory(work, OwnerOnlyFolder);
        using (var chown = Process.Start("chown", ["65534", work]))
        {
            chown.WaitForExit();
            Assert.Equal(0, chown.ExitCode);
        }

        var error = Assert.ThrowsAny<RecoveryException>(() => WorkDirectory.Create(new DatabaseOptions { WorkDir = work }));
        Assert.Contains("belongs to uid 65534, not this user", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_work_folder_that_is_a_link_is_refused_and_a_missing_one_is_created_owner_only()
    {
        using var parent = new TempDirectory();
        var elsewhere = Directory.CreateDirectory(Path.Combine(parent.Path, "elsewhere"), OwnerOnlyFolder).FullName;
        var link = Path.Combine(parent.Path, "link");
        Directory.CreateSymbolicLink(link, elsewhere);
        Assert.Contains("symbolic link", Assert.ThrowsAny<RecoveryException>(() => WorkDirectory.Create(new DatabaseOptions { WorkDir = link })).Message, StringComparison.Ordinal);

        var fresh = Path.Combine(parent.Path, "fresh");
        Assert.Equal(fresh, WorkDirectory.Create(new DatabaseOptions { WorkDir = fresh }));
        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(fresh));
    }

    [Fact]
    public async Task A_restore_with_an_open_work_folder_stops_before_creating_anything()
    {
        await using var database = await Sample.UsersAsync(50);
        using var dir = new TempDirectory();
        using var parent = new TempDirectory();
        var work = Path.Combine(parent.Path, "work");
        Directory.CreateDirectory(work);
        File.SetUnixFileMode(work, (UnixFileMode)Convert.ToInt32("777", 8));
        var backup = await FloyoDr.RunAsync(CliEnvironment.For(database, dir.Path), "backup", "--full");
        Assert.True(backup.ExitCode == 0, backup.All);
        var name = Path.GetFileName(Directory.GetFiles(dir.Path, "*.meta.json").Single())[..^".meta.json".Length];
        var target = database.Name + "_copy";

        var run = await FloyoDr.RunAsync(CliEnvironment.For(database, dir.Path, ("FLOYO_WORK_DIR", work)), "restore", "--file", name, "--target-database", target);
        Cli.CliErrorTests.AssertOneLineError(run, "is writable by other users");
        await using var admin = new NpgsqlConnection(database.Server.ConnectionString);
        await admin.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname LIKE @p", admin);
        exists.Parameters.AddWithValue("p", target + "%");
        Assert.Equal(0L, (long)(await exists.ExecuteScalarAsync())!);
    }

    /// <summary>floyo-dr started from a shell with the given umask (the test process's own umask is shared by every test).</summary>
    private static async Task<CliResult> RunUnderUmaskAsync(string umask, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var info = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"umask {umask} && exec dotnet \"$@\"");
        info.ArgumentList.Add("sh");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "floyo-dr.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("BACKUP_", StringComparison.Ordinal) || k is "DATABASE_URL" or "VERIFY_DATABASE_URL").ToList())
        {
            info.Environment.Remove(key);
        }
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
