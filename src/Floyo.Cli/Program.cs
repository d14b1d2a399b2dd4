using System.CommandLine;
using Floyo.Cli.Commands;

var root = new RootCommand("floyo-dr: proven PostgreSQL backups and safe restores, on local defaults")
{
    BackupCommand.Create(),
    ListCommand.Create(),
    RestoreCommand.Create(),
    VerifyCommand.Create(),
    CleanupCommand.Create(),
    CredentialsCommand.Create(),
    RotateCredentialsCommand.Create(),
    SecretsCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
